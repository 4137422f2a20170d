package io.hvp4j.verification;

/** The papers whose claims the suite checks: the three seed papers and two follow-ups on CNNs. */
public enum Paper {
  /** Singh, Bachmann, Hofmann 2021: rank of the Hessian (checks S1…S11). */
  SBH("Singh, Bachmann, Hofmann 2021"),
  /** Sagun, Evci, Guney, Dauphin, Bottou 2017: bulk and outliers (checks G1…G8). */
  SEGDB("Sagun, Evci, Guney, Dauphin, Bottou 2017"),
  /** Sankar, Khasbage, Vigneswaran, Balasubramanian 2021: layerwise Hessians (checks K1…K10). */
  SKVB("Sankar, Khasbage, Vigneswaran, Balasubramanian 2021"),
  /** Singh, Hofmann, Schölkopf 2023: the Hessian rank of CNNs (checks C1, C2). */
  SHS("Singh, Hofmann, Schölkopf 2023"),
  /** Yao, Gholami, Keutzer, Mahoney 2020 (PyHessian): the BatchNorm / residual ablation (check P1). */
  YGKM("Yao, Gholami, Keutzer, Mahoney 2020");

  private final String citation;

  Paper(String citation) {
    this.citation = citation;
  }

  /** Authors and year. */
  public String citation() {
    return citation;
  }
}
