package io.mqttkafkabridge.journal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.mqttkafkabridge.routing.MessageProperties;
import io.mqttkafkabridge.routing.MqttPublication;

/**
 * The journal's entry body: one publication, length-prefixed fields, no framing (the journal adds length and CRC).
 * <pre>
 * long seq | long time | byte qos | byte flags(1=retain, 2=username, 4=properties) | short topic | short clientId
 *   | short username (if any) | int payload | MQTT 5 properties (if any, {@link MessageProperties#write})
 * </pre>
 * Entries written before MQTT 5 have no properties flag and read as they did.
 */
final class PublicationCodec {

    private PublicationCodec() {
    }

    static byte[] encode(long seq, long time, MqttPublication p) {
        byte[] topic = p.topic().getBytes(StandardCharsets.UTF_8);
        byte[] client = p.clientId() == null ? new byte[0] : p.clientId().getBytes(StandardCharsets.UTF_8);
        byte[] user = p.username() == null ? null : p.username().getBytes(StandardCharsets.UTF_8);
        boolean properties = !p.properties().isEmpty();
        int size = 8 + 8 + 1 + 1 + 2 + topic.length + 2 + client.length + (user == null ? 0 : 2 + user.length) + 4
                + p.payload().length + (properties ? p.properties().encodedSize() : 0);
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putLong(seq).putLong(time).put((byte) p.qos())
                .put((byte) ((p.retain() ? 1 : 0) | (user == null ? 0 : 2) | (properties ? 4 : 0)));
        b.putShort((short) topic.length).put(topic);
        b.putShort((short) client.length).put(client);
        if (user != null) {
            b.putShort((short) user.length).put(user);
        }
        b.putInt(p.payload().length).put(p.payload());
        if (properties) {
            p.properties().write(b);
        }
        return b.array();
    }

    static long seqOf(ByteBuffer body) {
        return body.getLong(body.position());
    }

    static JournalEntry decode(ByteBuffer b) {
        long seq = b.getLong();
        long time = b.getLong();
        int qos = b.get();
        int flags = b.get();
        String topic = string(b);
        String client = string(b);
        String user = (flags & 2) != 0 ? string(b) : null;
        byte[] payload = new byte[b.getInt()];
        b.get(payload);
        MessageProperties properties = (flags & 4) != 0 ? MessageProperties.read(b) : MessageProperties.NONE;
        return new JournalEntry(seq, time, new MqttPublication(topic, payload, qos, (flags & 1) != 0, client, user, properties));
    }

    private static String string(ByteBuffer b) {
        int length = Short.toUnsignedInt(b.getShort());
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
