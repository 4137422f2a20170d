package io.hvp4j.verification;

/** The seed papers whose claims the suite checks (spec sections A, B, C). */
public enum Paper {
  /** Singh, Bachmann, Hofmann 2021: rank of the Hessian (checks S1…S11). */
  SBH("Singh, Bachmann, Hofmann 2021"),
  /** Sagun, Evci, Guney, Dauphin, Bottou 2017: bulk and outliers (checks G1…G8). */
  SEGDB("Sagun, Evci, Guney, Dauphin, Bottou 2017"),
  /** Sankar, Khasbage, Vigneswaran, Balasubramanian 2021: layerwise Hessians (checks K1…K10). */
  SKVB("Sankar, Khasbage, Vigneswaran, Balasubramanian 2021");

  private final String citation;

  Paper(String citation) {
    this.citation = citation;
  }

  /** Authors and year. */
  public String citation() {
    return citation;
  }
}
