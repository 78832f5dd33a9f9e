package io.mqttkafkabridge.broker;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.moquette.broker.ISslContextCreator;
import io.mqttkafkabridge.config.BridgeConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

/**
 * The TLS context of the MQTT listeners (TLS and WebSocket over TLS), built from PEM files as Kubernetes TLS Secrets
 * hold them, before Moquette starts: a file that cannot be read fails the start with its key and path (Moquette,
 * given a broken key store, would start without TLS). Certificates and keys are read once, at start-up.
 */
final class TlsContext implements ISslContextCreator {

    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]+)-----END \\1-----");

    private final SslContext context;

    private TlsContext(SslContext context) {
        this.context = context;
    }

    /** Null when no certificate is configured (TLS off). */
    static TlsContext of(BridgeConfig.Broker config) {
        if (config.tlsCertFile().isEmpty()) {
            return null;
        }
        Path certFile = config.tlsCertFile().get();
        Path keyFile = config.tlsKeyFile().orElseThrow(() -> new IllegalStateException(
                "bridge.broker.tls-key-file is missing: bridge.broker.tls-cert-file is set, and TLS needs its private key"));
        List<X509Certificate> chain = certificates(certFile, "bridge.broker.tls-cert-file");
        PrivateKey key = privateKey(keyFile);
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new));
            if (config.tlsClientAuth() != BridgeConfig.TlsClientAuth.NONE) {
                Path caFile = config.tlsClientCaFile().orElseThrow(() -> new IllegalStateException(
                        "bridge.broker.tls-client-ca-file is missing: bridge.broker.tls-client-auth="
                                + config.tlsClientAuth().name().toLowerCase() + " needs the CA that signs client certificates"));
                builder.trustManager(certificates(caFile, "bridge.broker.tls-client-ca-file").toArray(X509Certificate[]::new))
                        .clientAuth(config.tlsClientAuth() == BridgeConfig.TlsClientAuth.REQUIRED ? ClientAuth.REQUIRE
                                : ClientAuth.OPTIONAL);
            }
            return new TlsContext(builder.build());
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("Cannot set up TLS with " + certFile + " (bridge.broker.tls-cert-file) and "
                    + keyFile + " (bridge.broker.tls-key-file): " + e.getMessage(), e);
        }
    }

    @Override
    public SslContext initSSLContext() {
        return context;
    }

    /** One PEM block: its type (CERTIFICATE, PRIVATE KEY, …) and its DER bytes. */
    private record Block(String type, byte[] der) {
    }

    private static List<Block> blocks(Path file, String key) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("Cannot read " + file.toAbsolutePath() + " (" + key + "): "
                    + e.getClass().getSimpleName() + " " + e.getMessage(), e);
        }
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = PEM.matcher(text);
        while (matcher.find()) {
            try {
                blocks.add(new Block(matcher.group(1), Base64.getMimeDecoder().decode(matcher.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(file.toAbsolutePath() + " (" + key + "): a " + matcher.group(1)
                        + " block is not base64", e);
            }
        }
        return blocks;
    }

    private static List<X509Certificate> certificates(Path file, String key) {
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Block block : blocks(file, key)) {
                if (block.type().equals("CERTIFICATE")) {
                    certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
                }
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException(file.toAbsolutePath() + " (" + key + ") holds a certificate that cannot be read: "
                    + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IllegalStateException(file.toAbsolutePath() + " (" + key + ") holds no PEM certificate "
                    + "(-----BEGIN CERTIFICATE-----)");
        }
        return certificates;
    }

    private static PrivateKey privateKey(Path file) {
        String key = "bridge.broker.tls-key-file";
        for (Block block : blocks(file, key)) {
            try {
                switch (block.type()) {
                    case "PRIVATE KEY" -> {
                        byte[] pkcs8 = block.der();
                        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
                            try {
                                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
                            } catch (GeneralSecurityException tryNext) {
                                // not this algorithm
                            }
                        }
                        throw new IllegalStateException("unsupported key algorithm");
                    }
                    case "RSA PRIVATE KEY" -> {
                        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs1ToPkcs8(block.der())));
                    }
                    case "ENCRYPTED PRIVATE KEY" -> throw new IllegalStateException("the key is encrypted; give it without a "
                            + "pass phrase (openssl pkcs8 -topk8 -nocrypt)");
                    case "EC PRIVATE KEY" -> throw new IllegalStateException("SEC1 EC keys are not read; convert it to PKCS#8: "
                            + "openssl pkcs8 -topk8 -nocrypt -in " + file.getFileName());
                    default -> {
                        // a certificate or parameters in the same file: skip
                    }
                }
            } catch (GeneralSecurityException | IllegalArgumentException | IllegalStateException e) {
                throw new IllegalStateException(file.toAbsolutePath() + " (" + key + "): " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException(file.toAbsolutePath() + " (" + key + ") holds no PEM private key "
                + "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
    }

    /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL parameters). */
    static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01,
                0x05, 0x00};
        byte[] octets = concat(new byte[] {0x04}, length(pkcs1.length), pkcs1);
        byte[] body = concat(new byte[] {0x02, 0x01, 0x00}, algorithm, octets);
        return concat(new byte[] {0x30}, length(body.length), body);
    }

    private static byte[] length(int length) {
        if (length < 0x80) {
            return new byte[] {(byte) length};
        }
        if (length < 0x100) {
            return new byte[] {(byte) 0x81, (byte) length};
        }
        if (length < 0x10000) {
            return new byte[] {(byte) 0x82, (byte) (length >> 8), (byte) length};
        }
        return new byte[] {(byte) 0x83, (byte) (length >> 16), (byte) (length >> 8), (byte) length};
    }

    private static byte[] concat(byte[]... parts) {
        int size = 0;
        for (byte[] part : parts) {
            size += part.length;
        }
        byte[] out = new byte[size];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, offset, part.length);
            offset += part.length;
        }
        return out;
    }
}
