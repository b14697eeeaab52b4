package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.BadRequestResponse;
import java.util.Set;

/**
 * Fuzz target for the console's JSON bodies (users create and update, the local's proxy settings), through the same
 * strict mapper and field checks the REST API uses: every input is accepted with checked values or refused with a 400
 * naming what is wrong, never another exception (which the API would answer with a 500). {@code mvn verify} replays
 * the committed inputs; {@code JAZZER_FUZZ=1} fuzzes (docs/testing.md).
 */
class ConsoleJsonFuzzTest {

    private static final ObjectMapper JSON = Requests.strictMapper();

    @FuzzTest(maxExecutions = 1_000_000)
    void bodies(FuzzedDataProvider data) {
        int which = data.consumeInt(0, 2);
        byte[] body = data.consumeRemainingAsBytes();
        Set<String> fields = which == 0 ? UsersApi.CREATE_FIELDS : which == 1 ? UsersApi.UPDATE_FIELDS
                : ProxyApi.SETTINGS_FIELDS;
        try {
            JsonNode node = Requests.object(body, JSON, fields);
            assertThat(node.isObject()).isTrue();
            node.fieldNames().forEachRemaining(name -> assertThat(fields).contains(name));
            if (which == 2) {
                Requests.text(node, "remoteHost");
                Requests.text(node, "user");
                Requests.text(node, "remoteFingerprint");
            } else {
                String name = Requests.text(node, "name");
                if (name != null) {
                    assertThat(Requests.name(name)).isEqualTo(name);
                }
                Requests.bool(node, "enabled");
                Integer ports = Requests.exposePorts(node);
                assertThat(ports == null || ports >= 0).isTrue();
                Long rate = Requests.rate(node);
                assertThat(rate == null || rate >= 0).isTrue();
            }
            byte[] password = Requests.password(node);
            assertThat(password == null || password.length >= 1 && password.length <= 1024).isTrue();
        } catch (BadRequestResponse refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }
}
