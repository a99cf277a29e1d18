package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.leaderpod.core.ElectionSettings;
import java.io.InputStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.DurationStyle;

/**
 * The IDE metadata that users see: the default timings are defined once, in {@link ElectionSettings}; the properties
 * and the metadata must say the same.
 */
class ConfigurationMetadataTest {

    @Test
    void defaultTimingsInTheMetadataAreTheElectionDefaults() throws Exception {
        Map<String, JsonNode> properties = properties();

        assertThat(defaultOf(properties, "leader.lease-duration")).isEqualTo(ElectionSettings.DEFAULT_LEASE_DURATION);
        assertThat(defaultOf(properties, "leader.renew-deadline")).isEqualTo(ElectionSettings.DEFAULT_RENEW_DEADLINE);
        assertThat(defaultOf(properties, "leader.retry-period")).isEqualTo(ElectionSettings.DEFAULT_RETRY_PERIOD);
    }

    @Test
    void thePropertiesStartFromTheElectionDefaults() {
        LeaderProperties properties = new LeaderProperties();

        assertThat(properties.getLeaseDuration()).isEqualTo(ElectionSettings.DEFAULT_LEASE_DURATION);
        assertThat(properties.getRenewDeadline()).isEqualTo(ElectionSettings.DEFAULT_RENEW_DEADLINE);
        assertThat(properties.getRetryPeriod()).isEqualTo(ElectionSettings.DEFAULT_RETRY_PERIOD);
    }

    @Test
    void everyLeaderPropertyIsDescribed() throws Exception {
        assertThat(properties().values())
                .filteredOn(property -> property.get("name").asText().startsWith("leader."))
                .isNotEmpty()
                .allSatisfy(property -> assertThat(property.path("description").asText())
                        .as(property.get("name").asText())
                        .isNotBlank());
    }

    private static Duration defaultOf(Map<String, JsonNode> properties, String name) {
        assertThat(properties).containsKey(name);
        return DurationStyle.detectAndParse(
                properties.get(name).path("defaultValue").asText());
    }

    private static Map<String, JsonNode> properties() throws Exception {
        try (InputStream in =
                ConfigurationMetadataTest.class.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("generated metadata").isNotNull();
            Map<String, JsonNode> byName = new HashMap<>();
            for (JsonNode property : new ObjectMapper().readTree(in).path("properties")) {
                byName.put(property.get("name").asText(), property);
            }
            return byName;
        }
    }
}
