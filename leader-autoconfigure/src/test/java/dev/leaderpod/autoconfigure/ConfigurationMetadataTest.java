package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.leaderpod.core.ElectionSettings;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.autoconfigure.info.ConditionalOnEnabledInfoContributor;
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

    @Test
    void namedElectionsAreDescribedWithEveryKeyAnElectionTakes() throws Exception {
        JsonNode elections = properties().get("leader.elections");

        // IDEs complete leader.elections.<name>.* from the value type; the description names every key for the rest.
        assertThat(elections.path("type").asText())
                .isEqualTo("java.util.Map<java.lang.String," + LeaderProperties.Election.class.getName() + ">");
        List<String> keys = Arrays.stream(BeanUtils.getPropertyDescriptors(LeaderProperties.Election.class))
                .filter(property -> property.getWriteMethod() != null)
                .map(property -> property.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT))
                .toList();
        assertThat(keys)
                .containsExactlyInAnyOrder(
                        "enabled", "lease-duration", "renew-deadline", "retry-period", "request-timeout");
        assertThat(elections.path("description").asText())
                .contains(keys.stream().map(key -> "'" + key + "'").toList());
        // Each key defaults to the leader.* property of the same name.
        assertThat(keys).allSatisfy(key -> assertThat(properties()).containsKey("leader." + key));
    }

    @Test
    void theLeaderHealthAndInfoSwitchesAreDescribedUnderTheNamesTheirConditionsRead() throws Exception {
        Map<String, JsonNode> properties = properties();
        String health = Class.forName(
                        "dev.leaderpod.actuate.LeaderHealthAutoConfiguration$LeaderHealthIndicatorConfiguration")
                .getAnnotation(ConditionalOnEnabledHealthIndicator.class)
                .value();
        String info = Class.forName(
                        "dev.leaderpod.actuate.LeaderInfoAutoConfiguration$LeaderInfoContributorConfiguration")
                .getAnnotation(ConditionalOnEnabledInfoContributor.class)
                .value();

        assertThat(List.of("management.health." + health + ".enabled", "management.info." + info + ".enabled"))
                .containsExactly("management.health.leader.enabled", "management.info.leader.enabled")
                .allSatisfy(name -> {
                    assertThat(properties).containsKey(name);
                    JsonNode property = properties.get(name);
                    assertThat(property.path("type").asText()).isEqualTo("java.lang.Boolean");
                    assertThat(property.path("defaultValue").asBoolean()).isTrue();
                    assertThat(property.path("description").asText()).isNotBlank();
                });
    }

    @Test
    void kubernetesEventsAreOnByDefaultAndDescribed() throws Exception {
        JsonNode events = properties().get("leader.kubernetes.events.enabled");

        assertThat(events).isNotNull();
        assertThat(events.path("type").asText()).isEqualTo("java.lang.Boolean");
        assertThat(events.path("defaultValue").asBoolean()).isTrue();
        assertThat(events.path("description").asText()).contains("Kubernetes Event", "'create' on events");
        assertThat(new LeaderProperties().getKubernetes().getEvents().isEnabled())
                .isTrue();
    }

    @Test
    void leadershipFollowsReadinessByDefaultAndSaysSo() throws Exception {
        JsonNode follow = properties().get("leader.follow-readiness");

        assertThat(follow).isNotNull();
        assertThat(follow.path("type").asText()).isEqualTo("java.lang.Boolean");
        assertThat(follow.path("defaultValue").asBoolean()).isTrue();
        assertThat(follow.path("description").asText()).contains("ReadinessState", "hands leadership over");
        assertThat(new LeaderProperties().isFollowReadiness()).isTrue();
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
