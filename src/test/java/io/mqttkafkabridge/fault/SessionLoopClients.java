package io.mqttkafkabridge.fault;

import java.util.ArrayList;
import java.util.List;

/**
 * Client ids chosen by the session loop Moquette 0.17 runs them on: loop {@code |hash(client id)| mod loops}, one loop
 * per core of the bridge's JVM (on this machine, the test JVM's count).
 */
public final class SessionLoopClients {

    private SessionLoopClients() {
    }

    public static int loops() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The session loop of {@code clientId}. */
    public static int loopOf(String clientId) {
        return Math.abs(clientId.hashCode()) % loops();
    }

    /** The first id {@code <prefix><n>} that runs on {@code loop}. */
    public static String onLoop(int loop, String prefix) {
        for (int n = 0;; n++) {
            String id = prefix + n;
            if (loopOf(id) == loop) {
                return id;
            }
        }
    }

    /** One id per session loop, in loop order. */
    public static List<String> onEveryLoop(String prefix) {
        List<String> ids = new ArrayList<>();
        for (int loop = 0; loop < loops(); loop++) {
            ids.add(onLoop(loop, prefix));
        }
        return ids;
    }
}
