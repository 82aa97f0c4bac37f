package conductor.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * Starts a real single-node OpenSearch cluster inside this JVM, for tests only.
 *
 * <p>Usage: {@code java -cp <classpath> conductor.opensearch.OpenSearchLauncher <httpPort>}.
 * Prints {@code OPENSEARCH_READY port=<httpPort>} once HTTP is bound. The node stops (and its
 * temporary home is deleted) when the process gets SIGTERM or when standard input closes, so a
 * test run that dies never leaves an orphan JVM behind.
 *
 * <p>The same source serves the 2.19 and the 1.3 builds (tools/opensearch/opensearch1), whose
 * classpaths differ: plugins are found by class name, and scripting (Painless) is loaded only
 * where that build ships it.
 */
public final class OpenSearchLauncher {

    private OpenSearchLauncher() {}

    /** {@link Node} only accepts classpath plugins through its protected constructor. */
    private static final class PluginNode extends Node {
        PluginNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
            super(
                InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "conductor-test"),
                plugins,
                true
            );
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: OpenSearchLauncher <httpPort>");
            System.exit(2);
        }
        int httpPort = Integer.parseInt(args[0]);
        Path home = Files.createTempDirectory("conductor-opensearch-");
        Settings settings = Settings.builder()
            .put("cluster.name", "conductor-test")
            .put("node.name", "conductor-test")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", freePort())
            .put("transport.type", "netty4")
            .put("http.type", "netty4")
            .put("discovery.type", "single-node")
            // A nearly full disk on a dev machine must not flip test indices to read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("bootstrap.memory_lock", false)
            .build();

        Node node;
        try {
            node = new PluginNode(settings, plugins());
        } catch (RuntimeException e) {
            deleteTree(home);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(node, home)));
        node.start();
        System.out.println("OPENSEARCH_READY port=" + httpPort);
        System.out.flush();

        // Parent gone (stdin closed) -> stop; the shutdown hook does the cleanup.
        InputStream in = System.in;
        while (in.read() != -1) {
            // ignore anything written to us
        }
        System.exit(0);
    }

    /** HTTP transport and the common analysis (lowercase normalizer) are required; Painless where present. */
    private static List<Class<? extends Plugin>> plugins() throws ClassNotFoundException {
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        plugins.add(plugin("org.opensearch.transport.Netty4Plugin"));
        plugins.add(plugin("org.opensearch.analysis.common.CommonAnalysisPlugin"));
        try {
            plugins.add(plugin("org.opensearch.painless.PainlessPlugin"));
        } catch (ClassNotFoundException e) {
            // not in the 1.3 build: nothing the tests do runs scripts
        }
        return plugins;
    }

    private static Class<? extends Plugin> plugin(String name) throws ClassNotFoundException {
        return Class.forName(name).asSubclass(Plugin.class);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void stop(Node node, Path home) {
        try {
            node.close();
        } catch (IOException | RuntimeException e) {
            System.err.println("OpenSearch close failed: " + e);
        }
        deleteTree(home);
    }

    private static void deleteTree(Path home) {
        try (Stream<Path> paths = Files.walk(home)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + home + ": " + e);
        }
    }
}
