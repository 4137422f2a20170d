package io.hvp4j.autodiff;

import io.hvp4j.InvalidInputException;
import java.util.Locale;

/** Which second-order matrix a product applies (docs/theory.md §A.1: {@code H = H_O + H_F}). */
public enum Curvature {
    /** The loss Hessian {@code H = ∇²_θ L}. */
    HESSIAN,
    /** The Gauss–Newton (outer-product) part {@code H_O = Σ_i J_iᵀ ∇²ℓ_i J_i}, positive semi-definite. */
    GAUSS_NEWTON,
    /** The functional part {@code H_F = Σ_i Σ_c g_{i,c} ∇²_θ f_{i,c}}, the HVP of {@code Σ_i ḡ_iᵀ f(x_i)} with ḡ fixed. */
    FUNCTIONAL;

    /**
     * The name in command options and JSON output.
     *
     * @return {@code hessian}, {@code ggn} or {@code functional}
     */
    public String id() {
        return switch (this) {
            case HESSIAN -> "hessian";
            case GAUSS_NEWTON -> "ggn";
            case FUNCTIONAL -> "functional";
        };
    }

    /**
     * The matrix's symbol in output and file names.
     *
     * @return {@code H}, {@code H_O} or {@code H_F}
     */
    public String symbol() {
        return switch (this) {
            case HESSIAN -> "H";
            case GAUSS_NEWTON -> "H_O";
            case FUNCTIONAL -> "H_F";
        };
    }

    /**
     * Parses a curvature name.
     *
     * @param s {@code hessian}/{@code h}, {@code ggn}/{@code gauss-newton}/{@code outer}/{@code h_o}, or
     *          {@code functional}/{@code h_f} (any case)
     * @return the curvature
     * @throws InvalidInputException for any other name
     */
    public static Curvature parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "hessian", "h" -> HESSIAN;
            case "ggn", "gauss-newton", "gauss_newton", "outer", "h_o" -> GAUSS_NEWTON;
            case "functional", "h_f" -> FUNCTIONAL;
            default -> throw new InvalidInputException("unknown product '" + s + "' (expected hessian, ggn or functional)");
        };
    }
}
