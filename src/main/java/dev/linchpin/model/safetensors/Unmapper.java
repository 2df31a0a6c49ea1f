package dev.linchpin.model.safetensors;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Releases a file mapping at once. Java 17 has no public unmap: a MappedByteBuffer's pages stay mapped
 * (and count in the process's resident memory) until the buffer is garbage-collected, which for a
 * multi-GB checkpoint read chunk by chunk can mean the whole file resident at the end of loading.
 * {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported, exported for this use) unmaps
 * deterministically. Without it (a runtime lacking jdk.unsupported) mappings fall back to the GC.
 */
final class Unmapper {
    private static final MethodHandle INVOKE_CLEANER = find();

    private Unmapper() {}

    private static MethodHandle find() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Object unsafe = f.get(null);
            return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class)).bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** Unmaps {@code buffer} (the buffer FileChannel.map returned, not a view); it must not be used afterwards. */
    static void unmap(MappedByteBuffer buffer) {
        if (INVOKE_CLEANER == null || buffer == null) return;
        try {
            INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
        } catch (Throwable t) {   // never fatal: the GC unmaps it later
        }
    }

    /** True when mappings are released at once (false: at the garbage collector's pace). */
    static boolean isDeterministic() {
        return INVOKE_CLEANER != null;
    }
}
