package io.relaygate.core.reactor;

import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The one way blocking work (DNS, JDBC, key derivation) leaves an event loop and comes back: the work runs on the
 * bounded executor and returns what the loop should do with its result; that continuation, or the work's failure,
 * runs on the loop. A full executor refuses at once, so the caller can answer "overloaded" instead of queueing
 * without bound.
 */
public final class Offload {

    private Offload() {
    }

    /**
     * Runs {@code work} on {@code blocking}, then the continuation it returns on {@code loop}; if the work throws,
     * {@code failed} gets the exception on {@code loop} instead.
     *
     * @return false if the executor refused the work (nothing will run); true if it was accepted
     */
    public static boolean submit(Executor blocking, EventLoop loop, Callable<Runnable> work,
                                 Consumer<Exception> failed) {
        try {
            blocking.execute(() -> {
                Runnable continuation;
                try {
                    continuation = work.call();
                } catch (Exception e) {
                    loop.execute(() -> failed.accept(e));
                    return;
                }
                loop.execute(continuation);
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }
}
