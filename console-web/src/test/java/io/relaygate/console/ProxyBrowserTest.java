package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.relaygate.core.Gateway;
import io.relaygate.httpconnect.HttpConnectPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.TestGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium set to use the gateway as its HTTP proxy loads an {@code http://} page whose images come from a
 * second origin: every request goes through the gateway's plain forwarding (the origins see its {@code Via}).
 */
@Timeout(120)
class ProxyBrowserTest {

    /** A 1×1 PNG. */
    private static final byte[] PIXEL = java.util.Base64.getDecoder().decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private WebDriver browser;
    private final Queue<String> vias = new ConcurrentLinkedQueue<>();

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private WebDriver browser(String proxy) {
        // Chromium sends loopback straight unless "<-loopback>" takes it off the bypass list.
        browser = Chromium.start(data.resolve("chromium-profile"), "--proxy-server=http://" + proxy,
                "--proxy-bypass-list=<-loopback>");
        return browser;
    }

    private HttpServer origin() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        closer.track(() -> server.stop(0));
        return server;
    }

    private void serve(HttpServer server, String path, String type, byte[] body) {
        server.createContext(path, exchange -> {
            vias.add(path + " via " + exchange.getRequestHeaders().getFirst("Via"));
            exchange.getResponseHeaders().add("Content-Type", type);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
    }

    @Test
    void aPageAndItsImagesFromAnotherOriginLoadThroughTheProxy() throws Exception {
        HttpServer images = origin();
        for (int i = 0; i < 4; i++) {
            serve(images, "/pixel" + i + ".png", "image/png", PIXEL);
        }
        images.start();
        StringBuilder page = new StringBuilder("<!doctype html><title>through the proxy</title><h1 id=h>page</h1>");
        for (int i = 0; i < 4; i++) {
            page.append("<img id=i").append(i).append(" src=\"http://127.0.0.1:").append(images.getAddress()
                    .getPort()).append("/pixel").append(i).append(".png\">");
        }
        HttpServer site = origin();
        serve(site, "/index.html", "text/html; charset=utf-8", page.toString().getBytes(StandardCharsets.UTF_8));
        site.start();
        Gateway gateway = closer.track(TestGateway.start(List.of(new HttpConnectPlugin(), new Socks5Plugin())));

        WebDriver chromium = browser("127.0.0.1:" + gateway.address("mixed").getPort());
        chromium.get("http://127.0.0.1:" + site.getAddress().getPort() + "/index.html");
        assertThat(chromium.getTitle()).isEqualTo("through the proxy");
        new WebDriverWait(chromium, Duration.ofSeconds(15)).until(driver -> (Boolean) ((JavascriptExecutor) driver)
                .executeScript("return Array.from(document.images).every(i => i.complete && i.naturalWidth === 1)"));
        assertThat(vias).contains("/index.html via 1.1 relaygate");
        for (int i = 0; i < 4; i++) {
            assertThat(vias).contains("/pixel" + i + ".png via 1.1 relaygate");
        }
        assertThat(gateway.stats().bytesDown()).as("the pages and images went through the gateway")
                .isPositive();
    }
}
