package io.relaygate.console;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/** Debian's headless Chromium through its chromedriver, for the browser tests; nothing is downloaded. */
final class Chromium {

    private Chromium() {
    }

    /**
     * Starts a browser with a fresh profile in {@code profile} and {@code extraArguments}.
     *
     * @throws AssertionError naming the packages to install if Chromium or its driver is missing
     */
    static ChromeDriver start(Path profile, String... extraArguments) {
        File chromium = new File(System.getProperty("relaygate.chromium", "/usr/bin/chromium"));
        File chromedriver = new File(System.getProperty("relaygate.chromedriver", "/usr/bin/chromedriver"));
        // Say exactly what a fresh machine lacks (.ci/run installs both), rather than fail inside Selenium.
        if (!chromium.canExecute() || !chromedriver.canExecute()) {
            throw new AssertionError("this test drives Debian's Chromium: " + chromium + " or " + chromedriver
                    + " is missing; install them with: apt-get install chromium chromium-driver"
                    + " (or run bash .ci/run, which does)");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        // --no-sandbox: the suite may run as root, where Chromium's sandbox cannot start; no background traffic on a
        // machine whose network is closed.
        List<String> arguments = new ArrayList<>(List.of("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--window-size=1280,1000", "--user-data-dir=" + profile));
        arguments.addAll(List.of(extraArguments));
        options.addArguments(arguments);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver)
                .usingAnyFreePort().build();
        ChromeDriver browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
        return browser;
    }
}
