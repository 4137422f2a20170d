/** Checks of Sankar, Khasbage, Vigneswaran, Balasubramanian 2021 (docs/theory.md §C, §D.4): K1…K10. */
package io.hvp4j.verification.skvb;
