package io.mqttkafkabridge.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.mqttkafkabridge.routing.MessageProperties;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** The envelope in which a message's MQTT 5 properties ride through Moquette's stores and the cluster's topics. */
class MessageEnvelopeTest {

    private static final MessageProperties ALL = new MessageProperties(1, "application/json", "replies/d1",
            new byte[] { 0, (byte) 0xFF }, 1_800_000_000_000L, List.of(new MessageProperties.UserProperty("b", "1"),
                    new MessageProperties.UserProperty("a", "2"), new MessageProperties.UserProperty("b", "3")));

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void a_payload_without_properties_is_kept_as_it_is() {
        byte[] payload = utf8("{\"t\":21}");

        byte[] kept = MessageEnvelope.wrap(payload, MessageProperties.NONE);

        assertThat(kept).isSameAs(payload);
        assertThat(MessageEnvelope.isEnvelope(kept)).isFalse();
        assertThat(MessageEnvelope.payload(kept)).isEqualTo(payload);
        assertThat(MessageEnvelope.properties(kept)).isEqualTo(MessageProperties.NONE);
    }

    @Test
    void properties_order_and_repeated_user_properties_survive_the_round_trip() {
        byte[] payload = utf8("payload");

        byte[] kept = MessageEnvelope.wrap(payload, ALL);

        assertThat(MessageEnvelope.isEnvelope(kept)).isTrue();
        assertThat(MessageEnvelope.properties(kept)).isEqualTo(ALL);
        assertThat(MessageEnvelope.payload(kept)).isEqualTo(payload);
    }

    @Test
    void a_payload_that_begins_with_the_magic_bytes_is_wrapped_so_that_it_comes_back_unchanged() {
        byte[] lookalike = { 0x00, 'M', 'K', 'B', 0x05, (byte) 0xFE, (byte) 0xE5, (byte) 0x9A, 0, 0, 1, 2, 3 };

        byte[] kept = MessageEnvelope.wrap(lookalike, MessageProperties.NONE);

        assertThat(kept).isNotSameAs(lookalike).hasSize(lookalike.length + 8 + 1 + 1);
        assertThat(MessageEnvelope.payload(kept)).isEqualTo(lookalike);
        assertThat(MessageEnvelope.properties(kept)).isEqualTo(MessageProperties.NONE);
    }

    @Test
    void the_retain_flag_as_published_and_the_origin_are_read_back_from_a_netty_buffer() {
        byte[] kept = MessageEnvelope.wrap(utf8("x"), MessageProperties.NONE, true, "client-7");
        ByteBuf buffer = Unpooled.wrappedBuffer(new byte[] { 9, 9 }, kept).skipBytes(2);

        assertThat(MessageEnvelope.isEnvelope(buffer)).isTrue();
        MessageEnvelope.Opened opened = MessageEnvelope.open(buffer);

        assertThat(opened.retained()).isTrue();
        assertThat(opened.origin()).isEqualTo("client-7");
        assertThat(buffer.slice(buffer.readerIndex() + opened.payloadOffset(),
                buffer.readableBytes() - opened.payloadOffset()).toString(StandardCharsets.UTF_8)).isEqualTo("x");
    }

    @Test
    void an_empty_payload_and_an_empty_buffer_are_no_envelope() {
        assertThat(MessageEnvelope.isEnvelope(new byte[0])).isFalse();
        assertThat(MessageEnvelope.isEnvelope(Unpooled.EMPTY_BUFFER)).isFalse();
    }

    @Test
    void truncated_properties_are_refused_with_an_illegal_argument() {
        byte[] kept = MessageEnvelope.wrap(utf8("payload"), ALL);
        byte[] truncated = java.util.Arrays.copyOf(kept, 8 + 1 + 5);

        assertThatThrownBy(() -> MessageEnvelope.properties(truncated)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void the_expiry_left_is_rounded_up_and_an_expired_message_says_so() {
        MessageProperties expiring = MessageProperties.NONE.withExpiresAt(10_000);

        assertThat(expiring.remainingExpirySeconds(8_500)).isEqualTo(2);
        assertThat(expiring.remainingExpirySeconds(9_999)).isEqualTo(1);
        assertThat(expiring.expired(9_999)).isFalse();
        assertThat(expiring.expired(10_000)).isTrue();
        assertThat(MessageProperties.NONE.remainingExpirySeconds(0)).isEqualTo(-1);
    }
}
