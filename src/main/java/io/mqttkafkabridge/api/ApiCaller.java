package io.mqttkafkabridge.api;

import jakarta.enterprise.context.RequestScoped;

/** Who makes the current API request, as {@link ApiAuthFilter} found: the name the change log gives, and whether an admin. */
@RequestScoped
public class ApiCaller {

    private String user = "anonymous";
    private boolean admin = true;

    void set(String user, boolean admin) {
        this.user = user;
        this.admin = admin;
    }

    public String user() {
        return user;
    }

    public boolean admin() {
        return admin;
    }
}
