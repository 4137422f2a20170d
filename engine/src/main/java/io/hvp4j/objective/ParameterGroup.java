package io.hvp4j.objective;

import java.util.Arrays;

/**
 * A named subset of the parameters whose curvature block {@code C_SS} an {@link Objective} can apply: an MLP layer
 * (weight and bias), a graph module ({@code layer1.0.conv1}: its weight and bias), or any selection of parameter
 * tensors. {@code members} are indices into the model's list of parameter tensors (ascending); {@code size} is the
 * number of scalar parameters, which are consecutive in the flat vector when {@code offset >= 0} (the block's
 * vectors hold them in flat order either way). Immutable.
 *
 * @param name    the group's name (a module name, a layer index, or the pattern that selected it)
 * @param members indices into the model's list of parameter tensors, ascending (copied)
 * @param offset  the flat index of the group's first parameter when its parameters are consecutive, else -1
 * @param size    the number of scalar parameters
 */
public record ParameterGroup(String name, int[] members, long offset, int size) {
    /** Copies {@code members}. */
    public ParameterGroup {
        members = members.clone();
    }

    /**
     * The member tensors.
     *
     * @return indices into the model's list of parameter tensors, ascending (a copy)
     */
    @Override
    public int[] members() {
        return members.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterGroup g && g.name.equals(name) && Arrays.equals(g.members, members)
                && g.offset == offset && g.size == size;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(members);
    }

    @Override
    public String toString() {
        return name + " (" + size + " parameters)";
    }
}
