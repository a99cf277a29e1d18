package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real browser (headless Chromium from Debian's packages, installed by {@code .ci/run}): a
 * follower's page shows the leader and, in its elections table, who leads each election; the leader stops; the same
 * page, without a reload, shows its own instance as leader with a higher fencing token and the transition in its
 * timeline, and every election moved to it.
 */
class StatusPageBrowserIT {

    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the page shows, read from its DOM. */
    private static final String PAGE_STATE = "JSON.stringify({"
            + "state: document.body.dataset.state,"
            + "leader: document.body.dataset.leader,"
            + "self: document.getElementById('self-identity').textContent,"
            + "token: document.getElementById('fencing-token').textContent,"
            + "role: document.getElementById('self-role').textContent,"
            + "timeline: Array.from(document.querySelectorAll('#timeline li'))"
            + "  .map(function (li) { return li.dataset.kind + ' ' + li.querySelector('.text').textContent; }),"
            + "elections: Array.from(document.querySelectorAll('#elections tr')).map(function (tr) { return {"
            + "  name: tr.dataset.election, holder: tr.dataset.holder,"
            + "  holderText: tr.querySelector('.holder').textContent, token: tr.querySelector('.token').textContent,"
            + "  role: tr.querySelector('.role').textContent }; }),"
            + "share: document.getElementById('self-share').textContent,"
            + "shares: Array.from(document.querySelectorAll('#shares li'))"
            + "  .map(function (li) { return li.dataset.identity + '=' + li.dataset.share; })"
            + "})";

    private static final List<String> ELECTIONS = List.of("", "billing", "cleanup", "index");

    @TempDir
    Path leases;

    private final List<RunningApp> apps = new ArrayList<>();

    @AfterEach
    void closeApps() {
        apps.forEach(RunningApp::close);
    }

    @Test
    void followersPageShowsTheNewLeaderAfterTheLeaderStops() throws Exception {
        Optional<Path> chromium = HeadlessChromium.find();
        Assumptions.assumeTrue(
                chromium.isPresent(),
                "No Chromium on the PATH: skipping the browser test of the status page."
                        + " Install it with `apt-get install chromium` (.ci/run does).");

        RunningApp first = start();
        // A fresh lease directory: the first election waits out the missing lease for one lease duration.
        await().atMost(RunningApp.FAST_FIRST_ELECTION)
                .until(() -> first.status().at("/self/leader").asBoolean());
        RunningApp second = start();
        String firstId = first.status().at("/self/identity").asText();
        String secondId = second.status().at("/self/identity").asText();

        try (HeadlessChromium browser = HeadlessChromium.start(chromium.get(), Path.of("target", "chromium.log"))) {
            browser.open("http://127.0.0.1:" + second.port + "/");

            // The follower's page: it follows the first instance, which holds token 0.
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                JsonNode page = pageState(browser);
                assertThat(page.at("/state").asText()).isEqualTo("follower");
                assertThat(page.at("/self").asText()).isEqualTo(secondId);
                assertThat(page.at("/leader").asText()).isEqualTo(firstId);
                assertThat(page.at("/token").asText()).isEqualTo("0");
                assertThat(page.at("/role").asText()).isEqualTo("This instance follows");
                // Every election in the table, each led by one of the two instances, and this page's share.
                assertThat(names(page)).containsExactlyElementsOf(ELECTIONS);
                JsonNode defaultElection = page.at("/elections/0");
                assertThat(defaultElection.at("/holder").asText()).isEqualTo(firstId);
                assertThat(defaultElection.at("/token").asText()).isEqualTo("0");
                assertThat(defaultElection.at("/role").asText()).isEqualTo("follows");
                int led = 0;
                for (JsonNode election : page.at("/elections")) {
                    String holder = election.at("/holder").asText();
                    assertThat(holder).as(election.toString()).isIn(firstId, secondId);
                    assertThat(election.at("/role").asText())
                            .as(election.toString())
                            .isEqualTo(holder.equals(secondId) ? "leads" : "follows");
                    led += holder.equals(secondId) ? 1 : 0;
                }
                assertThat(page.at("/share").asText()).isEqualTo("This instance leads " + led + " of 4 elections");
            });
            browser.screenshot(SCREENSHOTS.resolve("status-page-follower.png"));

            // The leader stops gracefully; the page, refreshing itself, shows the hand-over.
            first.close();
            apps.remove(first);
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                JsonNode page = pageState(browser);
                assertThat(page.at("/state").asText()).isEqualTo("leader");
                assertThat(page.at("/leader").asText()).isEqualTo(secondId);
                assertThat(Long.parseLong(page.at("/token").asText())).isGreaterThan(0);
                assertThat(page.at("/role").asText()).isEqualTo("This instance leads");
                List<String> timeline = new ArrayList<>();
                page.at("/timeline").forEach(entry -> timeline.add(entry.asText()));
                assertThat(timeline).contains("GRANTED This instance leads", "LEADER " + firstId + " leads");
                assertThat(timeline.indexOf("GRANTED This instance leads"))
                        .as("newest first")
                        .isLessThan(timeline.indexOf("LEADER " + firstId + " leads"));
                // Every election moved to the instance left, each under a term of its own.
                assertThat(names(page)).containsExactlyElementsOf(ELECTIONS);
                for (JsonNode election : page.at("/elections")) {
                    assertThat(election.at("/holder").asText())
                            .as(election.toString())
                            .isEqualTo(secondId);
                    assertThat(election.at("/holderText").asText())
                            .as(election.toString())
                            .isEqualTo(secondId + "this instance");
                    assertThat(election.at("/role").asText())
                            .as(election.toString())
                            .isEqualTo("leads");
                    assertThat(Long.parseLong(election.at("/token").asText()))
                            .as("a term after the first instance's: " + election)
                            .isGreaterThan(0);
                }
                assertThat(page.at("/share").asText()).isEqualTo("This instance leads 4 of 4 elections");
                assertThat(page.at("/shares").toString()).isEqualTo("[\"" + secondId + "=4\"]");
                assertThat(timeline)
                        .contains(
                                "GRANTED This instance leads billing",
                                "GRANTED This instance leads cleanup",
                                "GRANTED This instance leads index");
            });
            // A job run of the new term appears too.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> pageState(browser).at("/timeline").toString().contains("JOB Job run #"));
            browser.screenshot(SCREENSHOTS.resolve("status-page-leader.png"));
        }
    }

    private RunningApp start() {
        RunningApp app = RunningApp.start(RunningApp.localFast(leases));
        apps.add(app);
        return app;
    }

    private static List<String> names(JsonNode page) {
        List<String> names = new ArrayList<>();
        page.at("/elections").forEach(election -> names.add(election.at("/name").asText()));
        return names;
    }

    private static JsonNode pageState(HeadlessChromium browser) throws Exception {
        return JSON.readTree(browser.evaluate(PAGE_STATE).asText());
    }
}
