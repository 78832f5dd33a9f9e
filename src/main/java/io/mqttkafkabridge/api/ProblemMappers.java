package io.mqttkafkabridge.api;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.JacksonException;

/** Turns every error of the REST API into an RFC 9457 problem response. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response api(ApiException e, UriInfo uri) {
        return Problem.response(e.status(), e.title(), e.getMessage(), uri.getPath());
    }

    /** A route the API was given that start-up would refuse: every problem, each naming its configuration key. */
    @ServerExceptionMapper
    public Response route(io.mqttkafkabridge.routing.RouteConfigurationException e, UriInfo uri) {
        return Problem.response(400, "Bad Request", String.join("; ", e.problems()), uri.getPath());
    }

    @ServerExceptionMapper
    public Response json(JacksonException e, UriInfo uri) {
        return Problem.response(400, "Bad Request", "The body is not the JSON this endpoint takes: " + e.getOriginalMessage(),
                uri.getPath());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        int status = e.getResponse().getStatus();
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof JacksonException json) {
                return json(json, uri);
            }
        }
        return Problem.response(status, Response.Status.fromStatusCode(status) == null ? "Error"
                : Response.Status.fromStatusCode(status).getReasonPhrase(), e.getMessage(), uri.getPath());
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e, UriInfo uri) {
        LOG.errorf(e, "Unexpected error on %s", uri.getPath());
        return Problem.response(500, "Internal Server Error", "The bridge failed to handle the request; see its log",
                uri.getPath());
    }
}
