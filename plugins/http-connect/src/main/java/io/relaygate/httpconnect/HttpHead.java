package io.relaygate.httpconnect;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed message head: a request line (method, target, version) or a status line (version, status, reason), and its
 * fields in order, names as sent. Values are ISO-8859-1 text with surrounding whitespace removed. Mutable while
 * {@link HeadParser} builds it; read-only afterwards by convention. Confined to one connection's loop.
 */
final class HttpHead {

    /** A header field. */
    record Field(String name, String value) {
        boolean is(String lowerCaseName) {
            return name.equalsIgnoreCase(lowerCaseName);
        }
    }

    String method;
    String target;
    /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
    int minorVersion;
    int status;
    String reason = "";
    final List<Field> fields = new ArrayList<>();

    boolean isHttp11() {
        return minorVersion == 1;
    }

    /** {@return the value of the only or first field named {@code name}, or null} */
    String first(String lowerCaseName) {
        for (Field f : fields) {
            if (f.is(lowerCaseName)) {
                return f.value;
            }
        }
        return null;
    }

    /** {@return how many fields are named {@code name}} */
    int count(String lowerCaseName) {
        int n = 0;
        for (Field f : fields) {
            if (f.is(lowerCaseName)) {
                n++;
            }
        }
        return n;
    }

    /** {@return every comma-separated element of every field named {@code name}, lower-cased, empty ones dropped} */
    List<String> tokens(String lowerCaseName) {
        List<String> tokens = new ArrayList<>(2);
        for (Field f : fields) {
            if (f.is(lowerCaseName)) {
                for (String element : f.value.split(",")) {
                    String token = element.trim().toLowerCase(Locale.ROOT);
                    if (!token.isEmpty()) {
                        tokens.add(token);
                    }
                }
            }
        }
        return tokens;
    }

    /** {@return whether {@code Connection} names {@code option} (RFC 9110 §7.6.1)} */
    boolean connectionHas(String option) {
        return tokens("connection").contains(option);
    }
}
