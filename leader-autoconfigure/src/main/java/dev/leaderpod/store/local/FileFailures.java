package dev.leaderpod.store.local;

import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the local stores make of what the file system throws: a {@link LeaseStoreException} that names the path and
 * what to do about it. Their callers are elections, which must go on (docs/design.md, "Nothing but stop ends the
 * election") and so never meet an unexpected exception or error.
 */
final class FileFailures implements LeaseFileWatches.Failures {

    /** A file system action. */
    interface FileAction<T> {
        T run() throws IOException;
    }

    private final Path directory;

    /** @param directory the store's directory, which the advice names */
    FileFailures(Path directory) {
        this.directory = directory;
    }

    /** Runs {@code action} ({@code doing} on {@code path}), turning anything it throws into a store failure. */
    <T> T translated(String doing, Path path, FileAction<T> action) {
        try {
            return action.run();
        } catch (ClosedByInterruptException e) {
            throw new LeaseStoreException(Kind.OTHER, "interrupted while " + doing + " " + path, e);
        } catch (IOException e) {
            throw failure(doing, path, e);
        } catch (UncheckedIOException e) {
            throw failure(doing, path, e.getCause());
        } catch (SecurityException e) {
            throw failure(doing, path, e);
        } catch (Error e) {
            if (e instanceof VirtualMachineError) {
                throw e; // out of memory and the like: nothing a retry of the election could cure
            }
            throw failure(doing, path, e);
        }
    }

    @Override
    public LeaseStoreException failure(String doing, Path path, Throwable cause) {
        return new LeaseStoreException(
                kindOf(cause),
                "cannot " + doing + " " + path + ": " + reason(cause) + "; " + advice(directory, cause),
                cause);
    }

    static String advice(Path directory, Throwable cause) {
        if (cause instanceof AccessDeniedException || cause instanceof SecurityException) {
            return "user " + System.getProperty("user.name") + " needs read and write access to " + directory
                    + " and the files in it: grant it, or choose a lease directory that user owns";
        }
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            return directory + " is not a directory: move that file away, or choose another lease directory";
        }
        return "check that " + directory + " is a writable directory on a local file system";
    }

    static Kind kindOf(Throwable e) {
        return e instanceof AccessDeniedException || e instanceof SecurityException ? Kind.FORBIDDEN : Kind.OTHER;
    }

    static String reason(Throwable e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
}
