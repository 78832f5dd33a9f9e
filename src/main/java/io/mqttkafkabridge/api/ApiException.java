package io.mqttkafkabridge.api;

/** A request the API refuses, with the HTTP status and a detail that says what to change. */
public class ApiException extends RuntimeException {

    private final int status;
    private final String title;

    public ApiException(int status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
    }

    static ApiException badRequest(String detail) {
        return new ApiException(400, "Bad Request", detail);
    }

    static ApiException notFound(String detail) {
        return new ApiException(404, "Not Found", detail);
    }

    static ApiException conflict(String detail) {
        return new ApiException(409, "Conflict", detail);
    }

    static ApiException unavailable(String detail) {
        return new ApiException(503, "Service Unavailable", detail);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }
}
