package io.mqttkafkabridge.routing;

import java.util.List;

/** Thrown at start-up when routes are misconfigured; the message lists every problem with its configuration key. */
public class RouteConfigurationException extends RuntimeException {

    private final List<String> problems;

    public RouteConfigurationException(List<String> problems) {
        super("Invalid route configuration (" + problems.size() + (problems.size() == 1 ? " problem" : " problems")
                + "):\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
