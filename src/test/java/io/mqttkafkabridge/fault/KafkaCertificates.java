package io.mqttkafkabridge.fault;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A test CA and a Kafka broker certificate it signed (SAN IP:127.0.0.1 and DNS:localhost), made with {@code openssl}
 * as an operator would, plus a second CA that signed nothing (a truststore holding only it does not trust the broker).
 * The clients read the CAs as PEM files ({@code ssl.truststore.type=PEM}, as Strimzi's {@code ca.crt}); the broker
 * reads a PKCS12 keystore.
 */
public final class KafkaCertificates {

    private final Path dir;
    private final String keystorePassword;

    private KafkaCertificates(Path dir, String keystorePassword) {
        this.dir = dir;
        this.keystorePassword = keystorePassword;
    }

    /** Writes the CAs, the broker's key, certificate and keystore into {@code dir}. */
    public static KafkaCertificates create(Path dir, String keystorePassword) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("broker.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                + "extendedKeyUsage=serverAuth,clientAuth\n");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Bridge test Kafka CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=Some other CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost");
        openssl(dir, "x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "broker.crt", "-days", "2", "-extfile", "broker.ext");
        openssl(dir, "pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-certfile", "ca.crt",
                "-name", "broker", "-out", "broker.p12", "-passout", "pass:" + keystorePassword);
        return new KafkaCertificates(dir, keystorePassword);
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Processes.Result result = Processes.run(command, dir, Duration.ofSeconds(30));
        if (result.exit() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + result.exit() + "):\n" + result.output());
        }
    }

    /** The CA that signed the broker's certificate (PEM). */
    public Path ca() {
        return dir.resolve("ca.crt").toAbsolutePath();
    }

    /** A CA that did not sign the broker's certificate (PEM). */
    public Path otherCa() {
        return dir.resolve("other-ca.crt").toAbsolutePath();
    }

    /** The broker's key and certificate chain (PKCS12). */
    public Path brokerKeystore() {
        return dir.resolve("broker.p12").toAbsolutePath();
    }

    public String keystorePassword() {
        return keystorePassword;
    }
}
