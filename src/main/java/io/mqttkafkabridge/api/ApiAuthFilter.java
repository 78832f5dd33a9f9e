package io.mqttkafkabridge.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.mqttkafkabridge.config.BridgeConfig;
import io.mqttkafkabridge.security.MqttAccess;

/**
 * Guards {@code /api/*}. With {@code bridge.api.auth=token} (the default outside dev and test) every request needs
 * either {@code Authorization: Bearer <bridge.api.token>} (an admin), or HTTP basic with a user and password of the
 * Mosquitto password file the MQTT listener checks ({@code bridge.security.password-file}, re-read when it changes).
 * Users named in {@code bridge.api.admins} may change things (routes, disconnects, publishes: PUT, POST, DELETE, but
 * the dry runs); every other user may read and gets 403 for a change. With {@code none}, everyone is an admin. Health,
 * metrics and OpenAPI under {@code /q} stay open, as Kubernetes probes and Prometheus expect.
 */
public class ApiAuthFilter {

    private static final String REALM = "mqtt-kafka-bridge";
    private static final Set<String> CHANGES = Set.of("POST", "PUT", "DELETE", "PATCH");

    private final BridgeConfig.Api config;
    private final MqttAccess access;
    private final ApiCaller caller;
    private final Set<String> admins;

    ApiAuthFilter(BridgeConfig config, MqttAccess access, ApiCaller caller) {
        this.config = config.api();
        this.access = access;
        this.caller = caller;
        this.admins = Set.copyOf(config.api().admins().orElse(List.of()).stream().map(String::trim)
                .filter(s -> !s.isEmpty()).toList());
    }

    @ServerRequestFilter
    public Optional<Response> authenticate(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (config.auth() == BridgeConfig.ApiAuth.NONE || !path.startsWith("/api/")) {
            caller.set("anonymous", true);
            return Optional.empty();
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return basic(request, header.substring(6).trim());
        }
        if (config.token().isEmpty()) {
            return Optional.of(unauthorized(request, access.hasPasswordFile()
                    ? "Sign in with HTTP basic (a user of bridge.security.password-file); no bridge.api.token is configured"
                    : "The API needs a token and none is configured: set bridge.api.token, or bridge.security.password-file "
                            + "for HTTP basic (or bridge.api.auth=none on a trusted network)"));
        }
        if (header == null || !header.startsWith("Bearer ")) {
            return Optional.of(unauthorized(request, "Send Authorization: Bearer <bridge.api.token>, or sign in with HTTP basic"));
        }
        byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        byte[] expected = config.token().get().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, expected)) {
            return Optional.of(unauthorized(request, "The bearer token is not bridge.api.token"));
        }
        caller.set("token", true);
        return Optional.empty();
    }

    private Optional<Response> basic(ContainerRequestContext request, String encoded) {
        if (!access.hasPasswordFile()) {
            return Optional.of(unauthorized(request, "HTTP basic needs bridge.security.password-file; use the bearer token"));
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.of(unauthorized(request, "The basic credentials are not base64"));
        }
        int colon = decoded.indexOf(':');
        String user = colon < 0 ? decoded : decoded.substring(0, colon);
        byte[] password = colon < 0 ? new byte[0] : decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        if (!access.verifyPassword(user, password)) {
            return Optional.of(unauthorized(request, "Unknown user or wrong password (bridge.security.password-file)"));
        }
        boolean admin = admins.contains(user);
        caller.set(user, admin);
        if (!admin && CHANGES.contains(request.getMethod()) && !request.getUriInfo().getPath().endsWith("/dry-run")) {
            return Optional.of(Problem.response(403, "Forbidden", "User '" + user + "' may read but not change: "
                    + "bridge.api.admins names the users who may", request.getUriInfo().getPath()));
        }
        return Optional.empty();
    }

    private static Response unauthorized(ContainerRequestContext request, String detail) {
        return Response.fromResponse(Problem.response(401, "Unauthorized", detail, request.getUriInfo().getPath()))
                // Bearer only: a Basic challenge would make browsers prompt for a password over the console's own sign-in
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"" + REALM + "\"").build();
    }
}
