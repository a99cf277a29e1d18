package dev.leaderpod.core;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An I/O executor whose thread can be exchanged, as a pool gives a new call another thread than a hung one: tasks go
 * to {@link #target}, which a test may replace. Never shut down by the elector it is given to.
 */
final class SwitchableExecutor extends AbstractExecutorService {

    volatile ExecutorService target;
    /**
     * Whether the futures it returns throw {@link InterruptedException} from a timed {@code get} on an interrupted
     * thread while their task is not done, as {@link java.util.concurrent.FutureTask} does (the stepped clock's do not).
     */
    volatile boolean futuresSeeInterrupts;

    SwitchableExecutor(ExecutorService target) {
        this.target = target;
    }

    @Override
    public void execute(Runnable command) {
        target.execute(command);
    }

    @Override
    public Future<?> submit(Runnable task) {
        Future<?> future = target.submit(task);
        return futuresSeeInterrupts ? new InterruptAwareFuture<>(future) : future;
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }

    /** A future whose timed {@code get} on an interrupted thread throws while the task is not done, as a real one. */
    private record InterruptAwareFuture<T>(Future<T> delegate) implements Future<T> {

        @Override
        public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            if (!delegate.isDone() && Thread.interrupted()) {
                throw new InterruptedException();
            }
            return delegate.get(timeout, unit);
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            return delegate.get();
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return delegate.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean isCancelled() {
            return delegate.isCancelled();
        }

        @Override
        public boolean isDone() {
            return delegate.isDone();
        }
    }
}
