package dev.leaderpod.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy in front of a test API server, to cut one candidate off the network. {@link #cut()} makes
 * it a black hole: open connections stop carrying bytes and new ones are accepted but never answered, as with a
 * network partition, so the client's calls hang until its own timeout.
 */
final class TcpProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean cut;

    TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    String url() {
        return "http://127.0.0.1:" + port() + "/";
    }

    /** From now on nothing passes. */
    void cut() {
        cut = true;
    }

    /** Closes every connection open now, as a network reset would; new ones pass as before. */
    void breakConnections() throws IOException {
        for (Socket socket : sockets) {
            sockets.remove(socket);
            socket.close();
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                sockets.add(client);
                if (cut) {
                    continue; // accepted, never answered
                }
                Socket server = new Socket(target.getAddress(), target.getPort());
                sockets.add(server);
                pump(client, server);
                pump(server, client);
            } catch (IOException e) {
                // listener closed, or target gone
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(
                () -> {
                    byte[] buffer = new byte[8192];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int read;
                        while ((read = in.read(buffer)) >= 0) {
                            if (cut) {
                                continue; // swallow: the peer waits forever
                            }
                            out.write(buffer, 0, read);
                            out.flush();
                        }
                    } catch (IOException e) {
                        // connection closed
                    }
                },
                "proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
