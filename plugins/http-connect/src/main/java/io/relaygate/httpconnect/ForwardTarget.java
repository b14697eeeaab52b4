package io.relaygate.httpconnect;

import io.relaygate.spi.Destination;

/**
 * Where an absolute-form request goes (RFC 9112 §3.2.2): the origin to connect to, the {@code Host} to send, and the
 * origin-form target to send it.
 *
 * @param destination the origin's host and port (80 unless the URI names one)
 * @param authority   the URI's authority as sent, for the {@code Host} field
 * @param originForm  path and query; {@code "*"} for a server-wide {@code OPTIONS}
 */
record ForwardTarget(Destination destination, String authority, String originForm) {

    static ForwardTarget parse(String method, String target) throws HttpException {
        if (!target.regionMatches(true, 0, "http://", 0, 7)) {
            if (target.regionMatches(true, 0, "https://", 0, 8)) {
                throw HttpException.badRequest("https URLs go through CONNECT");
            }
            if (target.startsWith("/") || target.equals("*")) {
                throw HttpException.badRequest("a proxy request needs an absolute URI (http://host/path)");
            }
            throw HttpException.badRequest("unsupported request target");
        }
        int authorityEnd = target.length();
        for (int i = 7; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                authorityEnd = i;
                break;
            }
        }
        String authority = target.substring(7, authorityEnd);
        if (authority.indexOf('@') >= 0) {
            throw HttpException.badRequest("user information in the URI");
        }
        String rest = target.substring(authorityEnd);
        int fragment = rest.indexOf('#');
        if (fragment >= 0) {
            rest = rest.substring(0, fragment);
        }
        String originForm;
        if (rest.isEmpty()) {
            originForm = method.equals("OPTIONS") ? "*" : "/";
        } else {
            originForm = rest.startsWith("?") ? "/" + rest : rest;
        }
        return new ForwardTarget(origin(authority), authority, originForm);
    }

    /** host [":" port], an IPv6 literal in brackets; port 80 by default. */
    private static Destination origin(String authority) throws HttpException {
        String host;
        String port = "";
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0 || (close + 1 < authority.length() && authority.charAt(close + 1) != ':')) {
                throw HttpException.badRequest("malformed IPv6 literal in the URI");
            }
            host = authority.substring(1, close);
            if (host.indexOf(':') < 0) {
                throw HttpException.badRequest("brackets hold an IPv6 literal only");
            }
            port = close + 1 < authority.length() ? authority.substring(close + 2) : "";
        } else {
            int colon = authority.indexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            port = colon < 0 ? "" : authority.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw HttpException.badRequest("no host in the URI");
        }
        int portNumber = 80;
        if (!port.isEmpty()) {
            if (port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw HttpException.badRequest("malformed port in the URI");
            }
            portNumber = Integer.parseInt(port);
        }
        try {
            return Destination.parse(host, portNumber);
        } catch (IllegalArgumentException e) {
            throw HttpException.badRequest("malformed host or port in the URI");
        }
    }
}
