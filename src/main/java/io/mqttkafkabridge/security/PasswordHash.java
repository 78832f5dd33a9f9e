package io.mqttkafkabridge.security;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One password hash of a Mosquitto password file, as {@code mosquitto_passwd} writes it:
 * {@code $7$<iterations>$<salt>$<hash>} (PBKDF2-HMAC-SHA512, Mosquitto 2's default) or the older, weaker
 * {@code $6$<salt>$<hash>} (one round of SHA-512 over password and salt); salt and hash in base64. Checking is
 * constant-time in the hash. Never logged: {@link #toString()} shows only the type.
 */
public final class PasswordHash {

    /** The hash types, strongest first. */
    public enum Type {
        PBKDF2_SHA512("$7$"), SHA512("$6$");

        final String prefix;

        Type(String prefix) {
            this.prefix = prefix;
        }
    }

    private final Type type;
    private final int iterations;
    private final byte[] salt;
    private final byte[] hash;

    private PasswordHash(Type type, int iterations, byte[] salt, byte[] hash) {
        this.type = type;
        this.iterations = iterations;
        this.salt = salt;
        this.hash = hash;
    }

    /**
     * Reads a hash field of a password file.
     *
     * @throws IllegalArgumentException with a message that does not contain the hash, when it is not one of the types
     */
    public static PasswordHash parse(String field) {
        Base64.Decoder base64 = Base64.getDecoder();
        String[] parts = field.split("\\$", -1);
        try {
            if (field.startsWith(Type.PBKDF2_SHA512.prefix) && parts.length == 5) {
                int iterations = Integer.parseInt(parts[2]);
                if (iterations < 1) {
                    throw new IllegalArgumentException("iteration count must be positive");
                }
                return new PasswordHash(Type.PBKDF2_SHA512, iterations, base64.decode(parts[3]), base64.decode(parts[4]));
            }
            if (field.startsWith(Type.SHA512.prefix) && parts.length == 4) {
                return new PasswordHash(Type.SHA512, 1, base64.decode(parts[2]), base64.decode(parts[3]));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed " + (field.startsWith("$7$") ? "$7$" : "$6$") + " hash ("
                    + e.getClass().getSimpleName() + ")");
        }
        throw new IllegalArgumentException(field.startsWith("$") ? "unsupported hash type (only $7$ PBKDF2-SHA512 and $6$ "
                + "SHA-512 from mosquitto_passwd)" : "not a hash (a plain-text password? run mosquitto_passwd -U on the file)");
    }

    public Type type() {
        return type;
    }

    /** True when {@code password} (the MQTT password field, bytes as sent) hashes to this hash. */
    public boolean matches(byte[] password) {
        byte[] computed = switch (type) {
            case PBKDF2_SHA512 -> pbkdf2Sha512(password, salt, iterations, hash.length);
            case SHA512 -> sha512(password, salt);
        };
        return MessageDigest.isEqual(computed, hash);
    }

    private static byte[] sha512(byte[] password, byte[] salt) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-512");
            digest.update(password);
            digest.update(salt);
            return digest.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-512 is not available", e);
        }
    }

    /** PBKDF2 (RFC 8018) with HMAC-SHA512 over the password's bytes as they are (no character decoding). */
    static byte[] pbkdf2Sha512(byte[] password, byte[] salt, int iterations, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA512");
            // SecretKeySpec refuses an empty key; HMAC pads keys with zero bytes, so one zero byte is the empty key
            mac.init(new SecretKeySpec(password.length == 0 ? new byte[1] : password, "HmacSHA512"));
            int blockLength = mac.getMacLength();
            byte[] out = new byte[length];
            for (int block = 1, offset = 0; offset < length; block++, offset += blockLength) {
                mac.update(salt);
                mac.update(new byte[] {(byte) (block >>> 24), (byte) (block >>> 16), (byte) (block >>> 8), (byte) block});
                byte[] u = mac.doFinal();
                byte[] t = u.clone();
                for (int i = 1; i < iterations; i++) {
                    u = mac.doFinal(u);
                    for (int j = 0; j < t.length; j++) {
                        t[j] ^= u[j];
                    }
                }
                System.arraycopy(t, 0, out, offset, Math.min(blockLength, length - offset));
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA512 is not available", e);
        }
    }

    @Override
    public String toString() {
        return type.prefix + "…";
    }
}
