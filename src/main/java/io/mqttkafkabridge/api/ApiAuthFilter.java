package io.mqttkafkabridge.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.mqttkafkabridge.config.BridgeConfig;

/**
 * Guards {@code /api/*}: with {@code bridge.api.auth=token} (the default outside dev and test) every request needs
 * {@code Authorization: Bearer <bridge.api.token>}. Health, metrics and OpenAPI under {@code /q} stay open, as
 * Kubernetes probes and Prometheus expect.
 */
public class ApiAuthFilter {

    private final BridgeConfig.Api config;

    ApiAuthFilter(BridgeConfig config) {
        this.config = config.api();
    }

    @ServerRequestFilter
    public Optional<Response> authenticate(ContainerRequestContext request) {
        if (config.auth() == BridgeConfig.ApiAuth.NONE || !request.getUriInfo().getPath().startsWith("/api/")) {
            return Optional.empty();
        }
        if (config.token().isEmpty()) {
            return Optional.of(unauthorized(request, "The API needs a token and none is configured: set bridge.api.token "
                    + "(or bridge.api.auth=none on a trusted network)"));
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ")) {
            return Optional.of(unauthorized(request, "Send Authorization: Bearer <bridge.api.token>"));
        }
        byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        byte[] expected = config.token().get().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, expected) ? Optional.empty()
                : Optional.of(unauthorized(request, "The bearer token is not bridge.api.token"));
    }

    private static Response unauthorized(ContainerRequestContext request, String detail) {
        return Response.fromResponse(Problem.response(401, "Unauthorized", detail, request.getUriInfo().getPath()))
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"mqtt-kafka-bridge\"").build();
    }
}
