package io.mqttkafkabridge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** Outside dev the API wants the bearer token; health and metrics stay open for probes and Prometheus. */
@QuarkusTest
@TestProfile(ApiAuthTest.TokenRequired.class)
@WithTestResource(KafkaTestResource.class)
class ApiAuthTest {

    /** bridge.api.auth=token, as in prod. */
    public static class TokenRequired implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bridge.api.auth", "token", "bridge.api.token", "s3cret-token");
        }
    }

    @TestHTTPResource("/")
    URI base;

    @Test
    void requests_without_the_token_get_401_problems_and_with_it_get_through() throws Exception {
        HttpResponse<String> none = Http.get(base.resolve("api/v1/routes"));
        HttpResponse<String> wrong = Http.get(base.resolve("api/v1/routes"), "Authorization", "Bearer nope");
        HttpResponse<String> right = Http.get(base.resolve("api/v1/routes"), "Authorization", "Bearer s3cret-token");

        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"mqtt-kafka-bridge\"");
        assertThat(none.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(none.body()).contains("Authorization: Bearer");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(right.statusCode()).isEqualTo(200);
        assertThat(Http.get(base.resolve("q/health/ready")).statusCode()).isEqualTo(200);
        assertThat(Http.get(base.resolve("q/metrics")).statusCode()).isEqualTo(200);
    }
}
