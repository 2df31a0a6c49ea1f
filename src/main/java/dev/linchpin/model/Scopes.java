package dev.linchpin.model;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * JavaCPP does not see libtorch's allocations, so every forward pass runs its temporaries in a
 * {@link PointerScope} and frees them on exit. Only the fresh result escapes: it is handed to the
 * caller's scope when there is one (freed when that closes), else left to the garbage collector.
 */
final class Scopes {
    private Scopes() {}

    /** Runs {@code body} in its own scope; {@code body} must return a tensor it created. */
    static Tensor run(Supplier<Tensor> body) {
        Tensor result;
        try (PointerScope scope = new PointerScope()) {
            result = body.get();
            result.retainReference();
        }
        handToCaller(result);
        return result;
    }

    /** Moves a tensor that survived an inner scope (reference count 1) into the caller's scope, if any. */
    static void handToCaller(Tensor result) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(result);
            result.releaseReference();
        }
    }

    /** Keeps a tensor made inside a scope alive past it, owned by the garbage collector (model weights, caches). */
    static Tensor keep(Tensor t) {
        t.retainReference();
        return t;
    }
}
