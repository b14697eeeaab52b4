package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.testkit.Closer;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestOrigin;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium (Debian's chromium and chromium-driver, never a download) driving the console page: log in with
 * the token, add a user and see it listed, stop and start the local proxy, watch the chart move during a transfer.
 * Screenshots go to {@code target/screenshots/} for a person to look at.
 */
@Timeout(120)
class ConsolePageBrowserTest {

    private static final Path SCREENSHOTS = Path.of("target/screenshots");

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private WebDriver browser;
    private WebDriverWait wait;

    @BeforeEach
    void openBrowser() throws Exception {
        Files.createDirectories(SCREENSHOTS);
        browser = Chromium.start(data.resolve("chromium-profile"));
        wait = new WebDriverWait(browser, Duration.ofSeconds(15));
        wait.ignoring(StaleElementReferenceException.class);     // live views redraw their elements
    }

    @AfterEach
    void closeAll() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        }

    private void screenshot(String name) throws Exception {
        File shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private void logIn(ConsoleFixture console, String token) {
        browser.get(console.base() + "/");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(token);
        browser.findElement(By.cssSelector("#login-form button[type=submit]")).click();
    }

    /**
     * Reads {@code socket} until it ends or {@code done}, a little paced so that a chart shows a plateau rather than a
     * loopback spike. {@return the reading thread}
     */
    private static Thread readPaced(Socket socket, AtomicBoolean done) {
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = socket.getInputStream()) {
                while (!done.get() && in.read(buffer) > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                }
            } catch (java.io.IOException e) {
                // closed by the gateway, or at the end
            }
        });
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    @Test
    void aWrongTokenIsToldAndTheRightOneLetsAnAdminAddAUser() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data.resolve("remote")));
        logIn(console, "not-the-token-0123456789");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
        assertThat(text("error")).contains("Login failed").contains("admin.token")
                .as("written for a person, not API text").doesNotContain("Bearer").doesNotContain("expected:");
        screenshot("remote-login-refused");

        WebElement token = browser.findElement(By.id("token"));
        token.clear();
        token.sendKeys(ConsoleFixture.TOKEN);
        browser.findElement(By.cssSelector("#login-form button[type=submit]")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("remote")));
        assertThat(text("role")).isEqualTo("remote gateway");

        browser.findElement(By.id("user-name")).sendKeys("alice");
        browser.findElement(By.id("user-password")).sendKeys("pw-alice");
        browser.findElement(By.id("user-rate")).sendKeys("1MiB");
        WebElement exposePorts = browser.findElement(By.id("user-expose-ports"));
        exposePorts.clear();
        exposePorts.sendKeys("2");
        browser.findElement(By.id("user-rate-down")).sendKeys("512KiB");
        WebElement maxConnections = browser.findElement(By.id("user-max-connections"));
        maxConnections.clear();
        maxConnections.sendKeys("8");
        browser.findElement(By.id("user-expires")).sendKeys("2099-01-31");
        browser.findElement(By.id("user-quota")).sendKeys("50GiB/month");
        browser.findElement(By.id("user-submit")).click();
        WebElement row = wait.until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#users tr[data-user='alice']")));
        assertThat(row.getText()).contains("alice").contains("1.00 MiB/s").contains("yes");
        assertThat(row.findElement(By.className("quota")).getText()).isEqualTo("0 B of 50GiB/month");
        assertThat(row.findElement(By.className("expires")).getText()).isEqualTo("2099-02-01 00:00 UTC");
        assertThat(row.findElement(By.className("max-connections")).getText()).isEqualTo("8");
        assertThat(console.accounts.find("alice")).hasValueSatisfying(a -> {
            assertThat(a.exposePorts()).isEqualTo(2);
            assertThat(a.limits().rateDown()).isEqualTo(512 * 1024);
            assertThat(a.limits().maxConnections()).isEqualTo(8);
            assertThat(a.limits().quota().toString()).isEqualTo("50GiB/month");
        });

        // A bad quota is refused by its field and the person is told why.
        browser.findElement(By.cssSelector("#users tr[data-user='alice'] button")).click();
        WebElement quota = browser.findElement(By.id("user-quota"));
        assertThat(quota.getAttribute("value")).as("the form shows the user's quota").isEqualTo("50GiB/month");
        quota.clear();
        quota.sendKeys("5/fortnight");
        browser.findElement(By.id("user-submit")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "quota"));
        browser.findElement(By.id("user-cancel")).click();

        // A duplicate is refused and the person is told why.
        browser.findElement(By.id("user-name")).sendKeys("alice");
        browser.findElement(By.id("user-password")).sendKeys("again");
        browser.findElement(By.id("user-submit")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "exists"));
        screenshot("remote-users");
    }

    @Test
    void savingSettingsShowsItsMessageBesideTheButtonWithoutWrappingIt() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.local(data.resolve("local")));
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(720, 900));
        logIn(console, ConsoleFixture.TOKEN);
        WebElement save = wait.until(ExpectedConditions.elementToBeClickable(
                By.cssSelector("#settings-form button[type=submit]")));
        int height = save.getRect().getHeight();
        save.click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("settings-saved"), "Saved"));
        assertThat(save.getRect().getHeight()).as("one line, as before the message").isEqualTo(height);
        assertThat(save.getText()).isEqualTo("Save and apply");
        screenshot("local-settings-saved");
    }

    @Test
    void theLocalsPageTakesTheFingerprintAndSaysWhyTheLinkFails() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.local(data.resolve("local")));
        // A port nobody listens on, below the ephemeral range so that no client of another test takes it meanwhile.
        int nobody = Sockets.freeListenPorts(1).get(0);
        logIn(console, ConsoleFixture.TOKEN);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("link-state"), "directly"));
        browser.findElement(By.id("remote-host")).sendKeys("127.0.0.1");
        browser.findElement(By.id("remote-port")).sendKeys(String.valueOf(nobody));
        browser.findElement(By.id("remote-user")).sendKeys("alice");
        browser.findElement(By.id("remote-password")).sendKeys("pw-alice");
        browser.findElement(By.id("remote-fingerprint")).sendKeys("first-use");
        browser.findElement(By.cssSelector("#settings-form button[type=submit]")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("settings-saved"), "Saved"));
        // The page polls the status: the link's state and its last problem, with its time, show up by themselves.
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("link-state"), "unreachable"));
        assertThat(text("link-state")).startsWith("Link failing: 0 links, 0 tunnels. Last problem at ");
        assertThat(browser.findElement(By.id("remote-fingerprint")).getAttribute("value")).isEqualTo("first-use");
        screenshot("local-link-failing");
    }

    @Test
    void theLocalProxyStopsAndStartsAndTheChartFollowsATransfer() throws Exception {
        ConsoleFixture console = closer.track(ConsoleFixture.local(data.resolve("local")));
        InetSocketAddress proxy = console.gateway.address("mixed");
        logIn(console, ConsoleFixture.TOKEN);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("state"), "running"));
        assertThat(text("listeners")).contains(String.valueOf(proxy.getPort()));

        browser.findElement(By.id("stop")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("state"), "stopped"));
        assertThatThrownBy(() -> new Socket(proxy.getAddress(), proxy.getPort()).close())
                .isInstanceOf(ConnectException.class);
        screenshot("local-stopped");
        browser.findElement(By.id("start")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("state"), "running"));

        TestOrigin origin = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            while (true) {
                out.write(chunk);
            }
        }));
        AtomicBoolean done = new AtomicBoolean();
        Socket tunnel = closer.track(Socks5Client.connect(proxy, "127.0.0.1", origin.port()));
        readPaced(tunnel, done);
        try {
            WebElement chart = browser.findElement(By.id("chart"));
            wait.until(driver -> Long.parseLong(chart.getAttribute("data-max") == null ? "0"
                    : chart.getAttribute("data-max")) > 1_000_000);
            wait.until(ExpectedConditions.not(ExpectedConditions.textToBe(By.id("down-rate"), "0 B/s")));
            assertThat(text("down-rate")).matches("[0-9.]+ (KiB|MiB|GiB)/s");
            // Round tick values: 0, 2.5, 5, 7.5, 10 MiB/s, not 2.49, 4.99…; the top one holds the peak.
            List<String> ticks = List.of(new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                    chart.getAttribute("data-ticks"), String[].class));
            assertThat(ticks).hasSize(5).allMatch(t -> t.matches("(0|[1-9][0-9]*(\\.5)?|0\\.25|0\\.5|0\\.75)"
                    + " (B|KiB|MiB|GiB)/s"), "round");
            screenshot("local-traffic");
        } finally {
            done.set(true);
            tunnel.close();
        }
    }

    @Test
    void theRemotesTunnelViewShowsAnExposedServiceItsLiveThroughputAndClosesIt() throws Exception {
        int publicPort = Sockets.freeListenPorts(1).get(0);
        ConsoleFixture console = closer.track(ConsoleFixture.remote(data.resolve("remote"), "reverse.bind",
                "127.0.0.1", "reverse.ports", String.valueOf(publicPort)));
        console.accounts.put("alice", "pw-alice", true).exposePorts("alice", 1);
        TestOrigin firehose = closer.track(TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            while (true) {
                out.write(chunk);
            }
        }));
        io.relaygate.core.Gateway local = closer.track(io.relaygate.core.Gateway.builder(
                io.relaygate.testkit.TestGateway.config("remote", "127.0.0.1:"
                        + console.gateway.address("link").getPort(), "user", "alice", "remoteFingerprint",
                        console.gateway.linkFingerprint(), "expose.0.name", "web", "expose.0.target",
                        "127.0.0.1:" + firehose.port()))
                .plugins(List.of(new io.relaygate.socks5.Socks5Plugin()))
                .linkPassword("pw-alice".getBytes(java.nio.charset.StandardCharsets.UTF_8)).start());
        logIn(console, ConsoleFixture.TOKEN);
        By row = By.cssSelector("#tunnels tr[data-tunnel='alice/web']");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(row, "active"));
        // The rows are drawn again with each update: each look finds the row anew and a stale one is looked at again.
        String rowText = wait.until(driver -> driver.findElement(row).getText());
        assertThat(rowText).contains("alice", "web", String.valueOf(publicPort));

        AtomicBoolean done = new AtomicBoolean();
        Socket visitor = closer.track(new Socket("127.0.0.1", publicPort));
        Thread reader = readPaced(visitor, done);
        try {
            By down = By.cssSelector("#tunnels tr[data-tunnel='alice/web'] .tunnel-down");
            wait.until(driver -> driver.findElement(down).getText().matches("[0-9.]+ (KiB|MiB|GiB)/s"));
            String visitors = wait.until(driver -> driver.findElement(
                    By.cssSelector("#tunnels tr[data-tunnel='alice/web'] .tunnel-visitors")).getText());
            assertThat(visitors).isEqualTo("1");
            screenshot("remote-tunnels");
            wait.until(driver -> {
                driver.findElement(By.cssSelector("#tunnels tr[data-tunnel='alice/web'] button")).click();
                return true;
            });
            wait.until(ExpectedConditions.alertIsPresent()).accept();
            wait.until(ExpectedConditions.invisibilityOfElementLocated(row));
            reader.join(5_000);
            assertThat(reader.isAlive()).as("the visitor was closed with its service").isFalse();
            assertThat(local.exposedServices().snapshot().get(0).reason()).contains("closed by the remote");
        } finally {
            done.set(true);
            visitor.close();
        }
    }
}
