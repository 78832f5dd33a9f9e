package io.mqttkafkabridge.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Reads one sample from the bridge's Prometheus endpoint, as a monitoring system would. */
final class PrometheusMetrics {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private PrometheusMetrics() {
    }

    /** The value of the sample whose line starts with {@code series} (name and labels), 0 when absent. */
    static double value(URI metrics, String series) {
        try {
            String body = HTTP.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
            return body.lines().filter(line -> line.startsWith(series + " "))
                    .mapToDouble(line -> Double.parseDouble(line.substring(series.length() + 1).trim()))
                    .findFirst().orElse(0);
        } catch (Exception e) {
            throw new IllegalStateException("Could not read " + metrics, e);
        }
    }
}
