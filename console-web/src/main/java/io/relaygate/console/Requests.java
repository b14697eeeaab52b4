package io.relaygate.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.relaygate.spi.AccountRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Set;

/** Reading and checking JSON request bodies: every bad input becomes a 400 that names the field. */
final class Requests {

    private Requests() {
    }

    /**
     * {@return a mapper that refuses what a lenient one would silently resolve} A duplicate key (which value wins?)
     * and text after the object (was it meant?) are errors, not guesses.
     */
    static ObjectMapper strictMapper() {
        return JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    }

    /** {@return the body as a JSON object with no field outside {@code allowed}} */
    static JsonNode object(Context ctx, ObjectMapper json, Set<String> allowed) {
        return object(ctx.bodyAsBytes(), json, allowed);    // bounded by maxRequestSize: 413 beyond it
    }

    /** {@return {@code body} as a JSON object with no field outside {@code allowed}} */
    static JsonNode object(byte[] body, ObjectMapper json, Set<String> allowed) {
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new BadRequestResponse("body: expected a JSON object (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new BadRequestResponse("body: unreadable");
        }
        if (node == null || !node.isObject()) {
            throw new BadRequestResponse("body: expected a JSON object");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new BadRequestResponse("unknown field " + shorten(name) + " (expected: " + allowed + ")");
            }
        }
        return node;
    }

    /** {@return a text field, or null when absent} */
    static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new BadRequestResponse(field + ": expected a string");
        }
        String text = value.textValue();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                // UTF-8 cannot carry it: stored, it would silently become '?'.
                throw new BadRequestResponse(String.format("%s: an unpaired surrogate \\u%04x at character %d"
                        + " (expected: text that UTF-8 can carry)", field, (int) c, i));
            }
        }
        return text;
    }

    /** {@return the password field as UTF-8 bytes, checked, or null when absent} */
    static byte[] password(JsonNode body) {
        String text = text(body, "password");
        if (text == null) {
            return null;
        }
        try {
            return AccountRules.checkPassword(text.getBytes(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(e.getMessage());
        }
    }

    /** {@return the rate field in bytes per second (an integer, or a string with a unit), or null when absent} */
    static Long rate(JsonNode body) {
        return rate(body, "rate");
    }

    /**
     * {@return a rate field ({@code rate}, {@code rateUp}, {@code rateDown}) in bytes per second, from an integer or
     * a string with a unit, or null when absent}
     */
    static Long rate(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        try {
            if (value.isIntegralNumber() && value.canConvertToLong()) {
                return AccountRules.checkRate(value.longValue());
            }
            if (value.isTextual()) {
                return AccountRules.parseRate(value.textValue());
            }
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(field + ":" + afterColon(e.getMessage()));
        }
        throw new BadRequestResponse(field + ": expected an integer (bytes per second) or a string such as 1MiB");
    }

    /** {@return the {@code maxConnections} field, checked, or null when absent} */
    static Integer maxConnections(JsonNode body) {
        JsonNode value = body.get("maxConnections");
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0
                || value.intValue() > AccountRules.MAX_CONNECTIONS) {
            throw new BadRequestResponse("maxConnections: expected an integer from 0 (no cap) to "
                    + AccountRules.MAX_CONNECTIONS);
        }
        return value.intValue();
    }

    /**
     * {@return the {@code expires} field: absent (null), or present with the instant, empty for {@code "never"} or
     * JSON null}
     */
    static java.util.Optional<java.time.Instant> expires(JsonNode body) {
        if (!body.has("expires")) {
            return null;
        }
        JsonNode value = body.get("expires");
        if (value.isNull()) {
            return java.util.Optional.empty();
        }
        if (!value.isTextual()) {
            throw new BadRequestResponse("expires: expected a string: a UTC date such as 2027-01-31, an instant such"
                    + " as 2027-01-31T12:00:00Z, or never");
        }
        try {
            return java.util.Optional.ofNullable(AccountRules.parseExpiry(value.textValue()));
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(e.getMessage());
        }
    }

    /** {@return the {@code quota} field ({@code "50GiB/month"}, {@code "none"} or JSON null), or null when absent} */
    static io.relaygate.spi.Quota quota(JsonNode body) {
        if (!body.has("quota")) {
            return null;
        }
        JsonNode value = body.get("quota");
        if (value.isNull()) {
            return io.relaygate.spi.Quota.NONE;
        }
        if (!value.isTextual()) {
            throw new BadRequestResponse("quota: expected a string such as 50GiB/month, 500MB/day or 1TiB/week, or"
                    + " none");
        }
        try {
            return io.relaygate.spi.Quota.parse(value.textValue());
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(e.getMessage());
        }
    }

    private static String afterColon(String message) {
        int colon = message.indexOf(':');
        return colon >= 0 ? message.substring(colon + 1) : " " + message;
    }

    /** {@return a boolean field, or null when absent} */
    /** {@return the {@code exposePorts} field, checked, or null when absent} */
    static Integer exposePorts(JsonNode body) {
        JsonNode value = body.get("exposePorts");
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0
                || value.intValue() > AccountRules.MAX_EXPOSE_PORTS) {
            throw new BadRequestResponse("exposePorts: expected an integer from 0 to " + AccountRules.MAX_EXPOSE_PORTS);
        }
        return value.intValue();
    }

    static Boolean bool(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isBoolean()) {
            throw new BadRequestResponse(field + ": expected true or false");
        }
        return value.booleanValue();
    }

    /** {@return a user name from the path or a body, checked} */
    static String name(String name) {
        try {
            return AccountRules.checkName(name);
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(e.getMessage());
        }
    }

    /** Keeps what is echoed short and printable. */
    static String shorten(String text) {
        String printable = text.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() > 40 ? printable.substring(0, 40) + "…" : printable;
    }
}
