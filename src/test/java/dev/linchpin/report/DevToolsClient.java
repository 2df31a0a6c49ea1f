package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A minimal Chrome DevTools Protocol client on the JDK's WebSocket: numbered commands answered by id,
 * every event kept in arrival order. Every wait is bounded.
 */
final class DevToolsClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final WebSocket socket;
    private final AtomicInteger nextId = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Every event received, in order. */
    final List<JsonNode> events = new CopyOnWriteArrayList<>();

    private DevToolsClient(WebSocket socket) {
        this.socket = socket;
    }

    static DevToolsClient connect(URI webSocketUrl, Duration timeout) throws Exception {
        DevToolsClient[] self = new DevToolsClient[1];
        Listener listener = new Listener(self);
        WebSocket ws = HttpClient.newBuilder().connectTimeout(timeout).build().newWebSocketBuilder()
                .connectTimeout(timeout).buildAsync(webSocketUrl, listener).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        self[0] = new DevToolsClient(ws);
        listener.ready.complete(null);
        return self[0];
    }

    /** Sends {@code method} and waits for its result; a protocol error is an AssertionError with its message. */
    JsonNode call(String method, ObjectNode params, Duration timeout) throws Exception {
        int id = nextId.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", params == null ? JSON.createObjectNode() : params);
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        socket.sendText(JSON.writeValueAsString(msg), true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        JsonNode reply;
        try {
            reply = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no answer to " + method + " within " + timeout, e);
        } finally {
            pending.remove(id);
        }
        if (reply.has("error")) throw new AssertionError(method + " failed: " + reply.get("error"));
        return reply.get("result");
    }

    static ObjectNode params() {
        return JSON.createObjectNode();
    }

    /** Waits for the first event (received at any time) named {@code method} whose params match. */
    JsonNode awaitEvent(String method, Predicate<JsonNode> paramsMatch, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            for (JsonNode e : events) {
                if (method.equals(e.path("method").asText()) && paramsMatch.test(e.path("params"))) return e.get("params");
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no " + method + " event within " + timeout);
    }

    private void receive(String text) {
        JsonNode msg;
        try {
            msg = JSON.readTree(text);
        } catch (IOException e) {
            events.add(JSON.createObjectNode().put("method", "client.unparsable").put("text", text));
            return;
        }
        if (msg.has("id")) {
            CompletableFuture<JsonNode> f = pending.get(msg.get("id").asInt());
            if (f != null) f.complete(msg);
        } else {
            events.add(msg);
        }
    }

    @Override
    public void close() {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(2, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            socket.abort();
        }
    }

    /** Joins fragmented text frames (screenshots arrive in many) and hands whole messages over. */
    private static final class Listener implements WebSocket.Listener {
        private final DevToolsClient[] self;
        private final CompletableFuture<Void> ready = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        Listener(DevToolsClient[] self) {
            this.self = self;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                ready.thenRun(() -> self[0].receive(text));
            }
            ws.request(1);
            return null;
        }
    }
}
