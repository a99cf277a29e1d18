package dev.leaderpod.store.kubernetes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake Kubernetes API server that speaks HTTP/1.1 by hand over a {@link ServerSocket} on 127.0.0.1, so that a test
 * can do what no well-behaved server library does: send the headers and then trickle, stall or cut the body.
 *
 * <p>Each connection is served by a thread of its own named {@value #THREAD_PREFIX}..., started by the accept
 * thread, so a test counting the client's threads can leave the fake's out. Every request is answered by the
 * current {@link Handler}; a handler that stalls returns when the client drops the connection or the server closes.
 */
final class RawApiServer implements AutoCloseable {

    static final String THREAD_PREFIX = "raw-api-server-";

    /** A request as read off the wire. */
    record Request(String method, String target, Map<String, String> headers, String body) {
        boolean isWebSocketUpgrade() {
            return "websocket".equalsIgnoreCase(headers.getOrDefault("upgrade", ""));
        }
    }

    /** Answers one request; may write anything to the connection. */
    @FunctionalInterface
    interface Handler {
        void handle(Request request, Connection connection) throws Exception;
    }

    /** How a body is framed. */
    enum Framing {
        CONTENT_LENGTH,
        CHUNKED
    }

    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger droppedByClient = new AtomicInteger();
    private final Set<Connection> webSockets = ConcurrentHashMap.newKeySet();
    private volatile Handler handler;
    private volatile boolean closed;

    RawApiServer(Handler handler) throws IOException {
        this.handler = handler;
        this.serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, THREAD_PREFIX + "accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String url() {
        return "http://127.0.0.1:" + serverSocket.getLocalPort();
    }

    void handler(Handler handler) {
        this.handler = handler;
    }

    /** Connections accepted so far; each had a thread of its own. */
    int connections() {
        return connections.get();
    }

    /** Connections the client closed while the handler was still holding them open (stalling). */
    int droppedByClient() {
        return droppedByClient.get();
    }

    /** Sends {@code text} as a WebSocket text message on every upgraded connection still open. */
    void sendToWebSockets(String text) throws IOException {
        for (Connection connection : webSockets) {
            connection.sendText(text);
        }
    }

    /** Closes every upgraded connection at once, without a close frame: a connection that broke. */
    void breakWebSockets() throws IOException {
        for (Connection connection : webSockets) {
            connection.close();
        }
    }

    /** Upgraded connections still open. */
    int openWebSockets() {
        return (int) webSockets.stream().filter(c -> !c.closed).count();
    }

    /** Connections not yet closed by either side. */
    int openConnections() {
        return open.size();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        serverSocket.close();
        for (Socket socket : open) {
            socket.close();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                return; // closed
            }
            open.add(socket);
            Thread serving =
                    new Thread(() -> serve(socket), THREAD_PREFIX + "connection-" + connections.incrementAndGet());
            serving.setDaemon(true);
            serving.start();
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            Connection connection = new Connection(socket);
            while (!closed && !connection.closed) {
                Request request = readRequest(in);
                if (request == null) {
                    return; // the client closed the connection
                }
                handler.handle(request, connection);
            }
        } catch (Exception e) {
            // the connection is gone, or the handler gave up; nothing more to answer
        } finally {
            open.remove(socket);
        }
    }

    private static Request readRequest(InputStream in) throws IOException {
        String requestLine = readLine(in);
        if (requestLine == null || requestLine.isEmpty()) {
            return null;
        }
        String[] parts = requestLine.split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            headers.put(
                    line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                    line.substring(colon + 1).strip());
        }
        byte[] body;
        if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream chunks = new ByteArrayOutputStream();
            for (int size = Integer.parseInt(readLine(in).strip(), 16);
                    size > 0;
                    size = Integer.parseInt(readLine(in).strip(), 16)) {
                chunks.write(in.readNBytes(size));
                readLine(in);
            }
            readLine(in);
            body = chunks.toByteArray();
        } else {
            body = new byte[0];
        }
        return new Request(parts[0], parts[1], headers, new String(body, StandardCharsets.UTF_8));
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b == -1) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** One accepted connection, as a handler writes to it. */
    final class Connection {
        private final Socket socket;
        private final OutputStream out;
        private volatile boolean closed;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
        }

        /** A complete response; the connection stays open for the next request. */
        synchronized void respond(int code, String json) throws IOException {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            write(head(code, Framing.CONTENT_LENGTH, body.length, false));
            out.write(body);
            out.flush();
        }

        /** A complete response, then the connection is closed. */
        void respondAndClose(int code, String json) throws IOException {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            write(head(code, Framing.CONTENT_LENGTH, body.length, true));
            out.write(body);
            out.flush();
            close();
        }

        /** Status line and headers announcing a body of {@code length} bytes, sent at once. */
        void headers(int code, Framing framing, int length) throws IOException {
            write(head(code, framing, length, false));
            out.flush();
        }

        /** Part of the body: as is, or as one chunk. */
        void body(Framing framing, byte[] bytes, int from, int to) throws IOException {
            if (framing == Framing.CHUNKED) {
                write(Integer.toHexString(to - from) + "\r\n");
                out.write(bytes, from, to - from);
                write("\r\n");
            } else {
                out.write(bytes, from, to - from);
            }
            out.flush();
        }

        /**
         * Sends nothing more and holds the connection until the client drops it (counted) or the server closes;
         * never longer than {@code limitMillis}, so a client that never lets go cannot keep the fake alive.
         */
        void stall(long limitMillis) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMillis);
            socket.setSoTimeout(50);
            while (!RawApiServer.this.closed && System.nanoTime() < deadline) {
                try {
                    if (socket.getInputStream().read() == -1) {
                        droppedByClient.incrementAndGet();
                        break;
                    }
                } catch (java.net.SocketTimeoutException e) {
                    // still open: keep holding it
                } catch (SocketException e) {
                    droppedByClient.incrementAndGet(); // reset by the client
                    break;
                }
            }
            close();
        }

        /** Accepts a WebSocket upgrade; {@link #sendText} then sends messages. */
        void acceptWebSocket(Request request) throws Exception {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-1")
                    .digest((request.headers().get("sec-websocket-key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                            .getBytes(StandardCharsets.ISO_8859_1));
            synchronized (this) {
                write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: "
                        + java.util.Base64.getEncoder().encodeToString(digest)
                        + "\r\n\r\n");
                out.flush();
            }
            webSockets.add(this);
        }

        /**
         * After {@link #acceptWebSocket}: reads the client's frames until it sends a close frame (then returns true and
         * closes the connection), drops the connection, the server closes, or {@code limitMillis} pass.
         */
        boolean awaitClientClose(long limitMillis) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMillis);
            socket.setSoTimeout(50);
            InputStream in = socket.getInputStream();
            try {
                while (!RawApiServer.this.closed && !closed && System.nanoTime() < deadline) {
                    int first;
                    try {
                        first = in.read();
                    } catch (java.net.SocketTimeoutException e) {
                        continue; // nothing yet
                    }
                    if (first == -1) {
                        return false;
                    }
                    socket.setSoTimeout(5_000); // the rest of the frame follows
                    int second = in.read();
                    long length = second & 0x7f;
                    if (length == 126) {
                        length = (in.read() << 8) | in.read();
                    } else if (length == 127) {
                        length = 0;
                        for (int i = 0; i < 8; i++) {
                            length = (length << 8) | in.read();
                        }
                    }
                    in.readNBytes(((second & 0x80) != 0 ? 4 : 0) + (int) length); // mask and payload
                    socket.setSoTimeout(50);
                    if ((first & 0x0f) == 0x8) {
                        return true;
                    }
                }
                return false;
            } catch (SocketException e) {
                return false; // reset by the client, or closed here
            } finally {
                close();
            }
        }

        /** One unmasked, unfragmented text frame, as a server sends them. */
        synchronized void sendText(String text) throws IOException {
            byte[] payload = text.getBytes(StandardCharsets.UTF_8);
            out.write(0x81); // FIN, text
            if (payload.length < 126) {
                out.write(payload.length);
            } else if (payload.length < 65536) {
                out.write(126);
                out.write(payload.length >>> 8);
                out.write(payload.length & 0xff);
            } else {
                throw new IllegalArgumentException("message too long for this fake");
            }
            out.write(payload);
            out.flush();
        }

        void close() throws IOException {
            closed = true;
            webSockets.remove(this);
            socket.close();
        }

        private void write(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        private String head(int code, Framing framing, int length, boolean close) {
            return "HTTP/1.1 " + code + " " + (code < 300 ? "OK" : "Error") + "\r\n"
                    + "Content-Type: application/json\r\n"
                    + (framing == Framing.CHUNKED
                            ? "Transfer-Encoding: chunked\r\n"
                            : "Content-Length: " + length + "\r\n")
                    + (close ? "Connection: close\r\n" : "")
                    + "\r\n";
        }
    }
}
