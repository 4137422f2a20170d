/** Checks of Sagun, Evci, Guney, Dauphin, Bottou 2017 (docs/theory.md §B, §D.3): G1…G8. */
package io.hvp4j.verification.segdb;
