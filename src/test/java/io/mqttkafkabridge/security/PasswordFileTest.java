package io.mqttkafkabridge.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Password files as {@code mosquitto_passwd} 2.0 (Debian bookworm) wrote them: the lines below were made with
 * {@code mosquitto_passwd -c -b FILE USER PASSWORD} ({@code -H sha512} for carol's $6$ line).
 */
class PasswordFileTest {

    static final String ALICE = "alice:$7$101$aSzpIhcvFZX0cNg1$ZvNjEVSRT7zrp/oWtqqIw54xcneV/xEt6ITFLtNKuL1KXfVP7tMOww8zXCLqZXC1yog6vLQy/ahb+VY0blaofQ==";
    static final String BOB = "bob:$7$101$Lhm/ixYUOx8yak7c$73Kbs4CZB/B7kWqRy3dmUDswBAKB3iBQCboFobqfaVYiBu7J3TRxQnqUQMwZteXKHUF75BIyxUfTw10TMNByfA==";
    static final String CAROL_SHA512 = "carol:$6$NbGkuM/lYXG4OTSA$rHxjE/0Zoiy2Khi6A1LfThoPzCWVLQYQAmH0EmX6p1FDTsP8cVAoR5+tKQfpNwzrnXr5hjjelyo9oOAl1l02Wg==";
    static final String DAVE_UTF8 = "dave:$7$101$wDfDh2bHlTDiIQo5$KDFuFJ+81+zm0jWyfpYi+ggA/sigTIpp2BLXOSN8OutlKGHEPjB+5GtxfDJesq9eEwc9RbrBqWiUhYjpo/5hbw==";
    static final String EMPTY = "empty:$7$101$ZiVxG/vIolx2/BLQ$Q10jz30edo8w/0O3lYjfjMRaVDU4usiYNR5w7vjfPhAjV1O05tfVZm3bD4wtLGDoFv0oFxninaQwnqDercMrVQ==";

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void pbkdf2_sha512_entries_from_mosquitto_passwd_accept_their_password_and_nothing_else() {
        PasswordFile file = PasswordFile.parse(List.of("# users", "", ALICE, BOB, DAVE_UTF8, EMPTY));

        assertThat(file.users()).isEqualTo(4);
        assertThat(file.problems()).isEmpty();
        assertThat(file.check("alice", utf8("s3cret"))).isEqualTo(PasswordFile.Check.ACCEPTED);
        assertThat(file.check("bob", utf8("p@ss:word"))).isEqualTo(PasswordFile.Check.ACCEPTED);
        assertThat(file.check("dave", utf8("pässwörd"))).isEqualTo(PasswordFile.Check.ACCEPTED);
        assertThat(file.check("empty", new byte[0])).isEqualTo(PasswordFile.Check.ACCEPTED);
        assertThat(file.check("alice", utf8("s3cret "))).isEqualTo(PasswordFile.Check.WRONG_PASSWORD);
        assertThat(file.check("alice", utf8("p@ss:word"))).isEqualTo(PasswordFile.Check.WRONG_PASSWORD);
        assertThat(file.check("alice", null)).isEqualTo(PasswordFile.Check.WRONG_PASSWORD);
        assertThat(file.check("mallory", utf8("s3cret"))).isEqualTo(PasswordFile.Check.UNKNOWN_USER);
        assertThat(file.check(null, utf8("s3cret"))).isEqualTo(PasswordFile.Check.UNKNOWN_USER);
    }

    @Test
    void a_weaker_sha512_entry_works_and_is_reported_as_weak() {
        PasswordFile file = PasswordFile.parse(List.of(ALICE, CAROL_SHA512));

        assertThat(file.check("carol", utf8("hunter2"))).isEqualTo(PasswordFile.Check.ACCEPTED);
        assertThat(file.check("carol", utf8("hunter3"))).isEqualTo(PasswordFile.Check.WRONG_PASSWORD);
        assertThat(file.problems()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(2);
            assertThat(problem.user()).isEqualTo("carol");
            assertThat(problem.lineSkipped()).isFalse();
            assertThat(problem.reason()).contains("weak");
        });
    }

    @Test
    void unusable_lines_are_skipped_and_reported_without_their_secret() {
        PasswordFile file = PasswordFile.parse(List.of(
                "plain:hunter2",
                "md5:$1$abc$def",
                "broken:$7$x$aSzp$ZvNj",
                "no colon here",
                ALICE,
                "alice:$7$101$Lhm/ixYUOx8yak7c$73Kbs4CZB/B7kWqRy3dmUDswBAKB3iBQCboFobqfaVYiBu7J3TRxQnqUQMwZteXKHUF75BIyxUfTw10TMNByfA=="));

        assertThat(file.users()).isEqualTo(1);
        assertThat(file.check("plain", utf8("hunter2"))).isEqualTo(PasswordFile.Check.UNKNOWN_USER);
        assertThat(file.check("alice", utf8("s3cret"))).as("the first alice line counts").isEqualTo(PasswordFile.Check.ACCEPTED);
        assertThat(file.problems()).extracting(PasswordFile.Problem::line).containsExactly(1, 2, 3, 4, 6);
        assertThat(file.problems()).allMatch(PasswordFile.Problem::lineSkipped);
        assertThat(file.problems()).extracting(PasswordFile.Problem::reason)
                .noneMatch(reason -> reason.contains("hunter2") || reason.contains("abc") || reason.contains("Lhm"));
        assertThat(file.problems().get(0).reason()).contains("plain-text");
        assertThat(file.problems().get(1).reason()).contains("unsupported hash type");
    }

    @Test
    void a_hash_never_shows_itself() {
        assertThat(PasswordHash.parse(ALICE.substring(6)).toString()).isEqualTo("$7$…");
        assertThatThrownBy(() -> PasswordHash.parse("$7$101$!!$??")).hasMessageNotContaining("!!").hasMessageContaining("malformed");
    }
}
