// Saved states of a ScienceWorld simulator, inside its own JVM (loaded by agentrm-bench, not part of scienceworld).
//
// scienceworld 1.1.3 has no save, load or clone: its whole state is the object graph held by one
// PythonInterface (the world's objects, the agent, the task and its goal sequence, the random
// generator, the run history) plus one mutable module field (the active simplifications). A saved
// state is a deep copy of that graph; restoring copies the saved graph again into the live object's
// fields, so one saved state can be restored any number of times. Objects that are the same for every
// state are shared, not copied: strings, boxed numbers, enums, classes, Scala singleton objects
// (a class's MODULE$, except the few listed in MODULE_ROOTS), and lambdas (hidden classes, which hold no world state in this simulator:
// counted and reported, see stats()). The copy keeps each hash set's and hash map's internal layout,
// so iteration orders -- which decide listings and the world's dynamics -- are the ones of the state
// saved.
package agentrm;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class AgentrmStates {
    private static final sun.misc.Unsafe UNSAFE = unsafe();
    private static final int ADDRESS_SIZE = sun.misc.Unsafe.ARRAY_OBJECT_INDEX_SCALE;
    // Singletons whose fields are part of a state but are not reachable from the PythonInterface: the
    // active simplifications, the counter that numbers every object made, and Scala's global random
    // generator, which the load seeds and the world's dynamics draw from (bees leaving a hive that was
    // moved diverged from a replay without it). Found by listing the jar's singletons' non-final fields
    // and by comparing restored states with replays; UniqueTypeID's table only grows, as in a replay.
    private static final String[] MODULE_ROOTS = {
        "main.scala.scienceworld.runtime.SimplifierProcessor$", "util.UniqueIdentifier$", "scala.util.Random$",
    };
    // Kept, not copied: the task definitions of every task and variation that each load builds (~220,000
    // objects, 40 times the live world); a load reads them, a step does not (tests compare with replays).
    private static final String KEPT_CLASS = "scienceworld.tasks.TaskMaker1";

    private final Object root;
    private final Object[] moduleRoots;
    private final int capacity;
    private int next = 0;
    private final Map<Integer, Object[]> saved;
    // Per-class facts in ClassValues: a map keyed by classes would hash them by identity (see copy()).
    private final ClassValue<Slot[]> layouts = new ClassValue<>() {
        @Override
        protected Slot[] computeValue(Class<?> cls) {
            return slotsOf(cls);
        }
    };
    private final ClassValue<Boolean> shared = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> cls) {
            return sharedClass(cls);
        }
    };
    private long copiedObjects = 0;
    private long sharedLambdas = 0;
    private long retries = 0;

    private static final class Slot {
        final long offset;
        final Class<?> type;

        Slot(long offset, Class<?> type) {
            this.offset = offset;
            this.type = type;
        }
    }

    public AgentrmStates(Object root, int capacity) throws Exception {
        this.root = root;
        this.capacity = capacity;
        this.moduleRoots = new Object[MODULE_ROOTS.length];
        for (int i = 0; i < MODULE_ROOTS.length; i++) {
            moduleRoots[i] = Class.forName(MODULE_ROOTS[i], true, root.getClass().getClassLoader())
                    .getField("MODULE$").get(null);
        }
        this.saved = new LinkedHashMap<Integer, Object[]>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Object[]> eldest) {
                return size() > AgentrmStates.this.capacity;
            }
        };
    }

    /** Save the simulator's current state; the number names it for restore(). */
    public synchronized int save() {
        Object[] live = new Object[1 + moduleRoots.length];
        live[0] = root;
        System.arraycopy(moduleRoots, 0, live, 1, moduleRoots.length);
        Object[] fields = new Object[live.length];
        for (int i = 0; i < live.length; i++) {
            fields[i] = readFields(live[i]);
        }
        int number = next++;
        saved.put(number, (Object[]) copy(fields));
        return number;
    }

    /** Put the simulator back into a saved state; false when that state is no longer kept. */
    public synchronized boolean restore(int number) {
        Object[] state = saved.get(number);
        if (state == null) {
            return false;
        }
        Object[] fields = (Object[]) copy(state);
        writeFields(root, (Object[]) fields[0]);
        for (int i = 0; i < moduleRoots.length; i++) {
            writeFields(moduleRoots[i], (Object[]) fields[i + 1]);
        }
        return true;
    }

    /** Objects copied, lambdas shared and copies redone (the collector ran) so far: for measuring. */
    public synchronized long[] stats() {
        return new long[] {copiedObjects, sharedLambdas, retries};
    }

    // ------------------------------------------------------------------ the copy

    private Object[] readFields(Object owner) {
        Slot[] slots = layout(owner.getClass());
        Object[] values = new Object[slots.length];
        for (int i = 0; i < slots.length; i++) {
            values[i] = read(owner, slots[i]);
        }
        return values;
    }

    private void writeFields(Object owner, Object[] values) {
        Slot[] slots = layout(owner.getClass());
        for (int i = 0; i < slots.length; i++) {
            write(owner, slots[i], values[i]);
        }
    }

    /**
     * A deep copy of ``from``. Objects already copied are found by their address, not their identity
     * hash: the simulator's JVM runs with constant identity hash codes (for reproducible iteration
     * orders), which would make an IdentityHashMap a linear scan. An object's address changes only
     * when a collection moves it, so a copy during which the collector ran is made again.
     */
    private Object copy(Object from) {
        for (int attempt = 0; attempt < 16; attempt++) {
            long collections = collections();
            Object result = copyOnce(from);
            if (collections() == collections) {
                return result;
            }
            retries++;
        }
        throw new IllegalStateException("the garbage collector ran during every attempt to copy the state");
    }

    private static long collections() {
        long total = 0;
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, bean.getCollectionCount());
        }
        return total;
    }

    /** Copies made so far in one pass, keyed by the original's current address (open addressing). */
    private static final class AddressMap {
        private final Object[] holder = new Object[1];
        private long[] keys = new long[1 << 16];
        private Object[] values = new Object[1 << 16];
        private int size = 0;

        private static long address(Object[] holder, Object value) {
            holder[0] = value;
            long address = ADDRESS_SIZE == 4
                    ? UNSAFE.getInt(holder, (long) sun.misc.Unsafe.ARRAY_OBJECT_BASE_OFFSET) & 0xffffffffL
                    : UNSAFE.getLong(holder, (long) sun.misc.Unsafe.ARRAY_OBJECT_BASE_OFFSET);
            holder[0] = null;
            return address;
        }

        private static int slot(long address, int mask) {
            long h = address * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29)) & mask;
        }

        Object get(Object original) {
            long key = address(holder, original);
            int mask = keys.length - 1;
            for (int i = slot(key, mask); ; i = (i + 1) & mask) {
                if (keys[i] == key) return values[i];
                if (keys[i] == 0) return null;
            }
        }

        void put(Object original, Object copy) {
            if (2 * (size + 1) > keys.length) grow();
            insert(address(holder, original), copy);
            size++;
        }

        int size() {
            return size;
        }

        private void insert(long key, Object copy) {
            int mask = keys.length - 1;
            int i = slot(key, mask);
            while (keys[i] != 0 && keys[i] != key) i = (i + 1) & mask;
            keys[i] = key;
            values[i] = copy;
        }

        private void grow() {
            long[] oldKeys = keys;
            Object[] oldValues = values;
            keys = new long[oldKeys.length * 2];
            values = new Object[oldKeys.length * 2];
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != 0) insert(oldKeys[i], oldValues[i]);
            }
        }
    }

    private Object copyOnce(Object from) {
        AddressMap copies = new AddressMap();
        copies.put(root, root); // the live objects the state hangs from stay themselves
        for (Object module : moduleRoots) {
            copies.put(module, module);
        }
        ArrayDeque<Object> todo = new ArrayDeque<>();
        Object result = allocate(from, copies, todo);
        while (!todo.isEmpty()) {
            Object original = todo.pop(); // pushed with its copy (no lookup: the collector may have moved it)
            Object target = todo.pop();
            Class<?> cls = original.getClass();
            if (cls.isArray()) {
                if (!cls.getComponentType().isPrimitive()) {
                    Object[] source = (Object[]) original;
                    Object[] dest = (Object[]) target;
                    for (int i = 0; i < source.length; i++) {
                        dest[i] = allocate(source[i], copies, todo);
                    }
                }
                continue;
            }
            for (Slot slot : layout(cls)) {
                if (slot.type.isPrimitive()) {
                    copyPrimitive(original, target, slot);
                } else {
                    UNSAFE.putObject(target, slot.offset, allocate(UNSAFE.getObject(original, slot.offset), copies, todo));
                }
            }
        }
        copiedObjects += copies.size();
        return result;
    }

    /** The copy of ``value`` (made now, its fields filled later), or ``value`` itself where it is shared. */
    private Object allocate(Object value, AddressMap copies, ArrayDeque<Object> todo) {
        if (value == null) {
            return null;
        }
        Object done = copies.get(value);
        if (done != null) {
            return done;
        }
        Class<?> cls = value.getClass();
        if (isShared(cls, value)) {
            return value;
        }
        Object made;
        if (cls.isArray()) {
            int length = Array.getLength(value);
            if (cls.getComponentType().isPrimitive()) {
                made = Array.newInstance(cls.getComponentType(), length);
                System.arraycopy(value, 0, made, 0, length);
            } else {
                made = Array.newInstance(cls.getComponentType(), length);
            }
        } else {
            try {
                made = UNSAFE.allocateInstance(cls);
            } catch (InstantiationException e) {
                throw new IllegalStateException("cannot copy an instance of " + cls.getName(), e);
            }
        }
        copies.put(value, made);
        todo.push(made);
        todo.push(value);
        return made;
    }

    private boolean isShared(Class<?> cls, Object value) {
        if (cls.isHidden()) {
            sharedLambdas++;
            return true;
        }
        if (shared.get(cls)) {
            return true;
        }
        return isModule(cls, value);
    }

    private static boolean sharedClass(Class<?> cls) {
        if (cls.isArray()) {
            return false;
        }
        if (cls.isEnum() || Enum.class.isAssignableFrom(cls) || cls.isRecord()) {
            return true;
        }
        String name = cls.getName();
        return name.equals(KEPT_CLASS) || name.startsWith("java.lang.") && !name.startsWith("java.lang.StringBuilder")
                && !name.startsWith("java.lang.StringBuffer")
                || name.startsWith("java.math.")
                || name.startsWith("java.util.regex.")
                || name.startsWith("java.lang.invoke.")
                || name.startsWith("jdk.")
                || name.startsWith("sun.")
                || name.startsWith("py4j.")
                || Thread.class.isAssignableFrom(cls)
                || ClassLoader.class.isAssignableFrom(cls);
    }

    private boolean isModule(Class<?> cls, Object value) {
        if (!cls.getName().endsWith("$")) {
            return false;
        }
        try {
            Field module = cls.getDeclaredField("MODULE$");
            return Modifier.isStatic(module.getModifiers()) && module.get(null) == value;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private Slot[] layout(Class<?> cls) {
        return layouts.get(cls);
    }

    private static Slot[] slotsOf(Class<?> cls) {
        List<Slot> found = new ArrayList<>();
        for (Class<?> c = cls; c != null; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers())) {
                    found.add(new Slot(UNSAFE.objectFieldOffset(field), field.getType()));
                }
            }
        }
        return found.toArray(new Slot[0]);
    }

    private static Object read(Object owner, Slot slot) {
        Class<?> t = slot.type;
        long o = slot.offset;
        if (!t.isPrimitive()) return UNSAFE.getObject(owner, o);
        if (t == int.class) return UNSAFE.getInt(owner, o);
        if (t == long.class) return UNSAFE.getLong(owner, o);
        if (t == double.class) return UNSAFE.getDouble(owner, o);
        if (t == boolean.class) return UNSAFE.getBoolean(owner, o);
        if (t == float.class) return UNSAFE.getFloat(owner, o);
        if (t == byte.class) return UNSAFE.getByte(owner, o);
        if (t == short.class) return UNSAFE.getShort(owner, o);
        return UNSAFE.getChar(owner, o);
    }

    private static void write(Object owner, Slot slot, Object value) {
        Class<?> t = slot.type;
        long o = slot.offset;
        if (!t.isPrimitive()) UNSAFE.putObject(owner, o, value);
        else if (t == int.class) UNSAFE.putInt(owner, o, (Integer) value);
        else if (t == long.class) UNSAFE.putLong(owner, o, (Long) value);
        else if (t == double.class) UNSAFE.putDouble(owner, o, (Double) value);
        else if (t == boolean.class) UNSAFE.putBoolean(owner, o, (Boolean) value);
        else if (t == float.class) UNSAFE.putFloat(owner, o, (Float) value);
        else if (t == byte.class) UNSAFE.putByte(owner, o, (Byte) value);
        else if (t == short.class) UNSAFE.putShort(owner, o, (Short) value);
        else UNSAFE.putChar(owner, o, (Character) value);
    }

    private static void copyPrimitive(Object from, Object to, Slot slot) {
        Class<?> t = slot.type;
        long o = slot.offset;
        if (t == int.class) UNSAFE.putInt(to, o, UNSAFE.getInt(from, o));
        else if (t == long.class) UNSAFE.putLong(to, o, UNSAFE.getLong(from, o));
        else if (t == double.class) UNSAFE.putDouble(to, o, UNSAFE.getDouble(from, o));
        else if (t == boolean.class) UNSAFE.putBoolean(to, o, UNSAFE.getBoolean(from, o));
        else if (t == float.class) UNSAFE.putFloat(to, o, UNSAFE.getFloat(from, o));
        else if (t == byte.class) UNSAFE.putByte(to, o, UNSAFE.getByte(from, o));
        else if (t == short.class) UNSAFE.putShort(to, o, UNSAFE.getShort(from, o));
        else UNSAFE.putChar(to, o, UNSAFE.getChar(from, o));
    }

    private static sun.misc.Unsafe unsafe() {
        try {
            Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (sun.misc.Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
