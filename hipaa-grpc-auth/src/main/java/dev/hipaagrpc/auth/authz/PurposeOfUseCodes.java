package dev.hipaagrpc.auth.authz;

import java.util.Set;

/**
 * The HL7 v3 PurposeOfUse value set (ActReason codes, terminology.hl7.org ValueSet/v3-PurposeOfUse)
 * accepted in the {@code x-purpose-of-use} header. Any other value is refused.
 */
final class PurposeOfUseCodes {

  static final Set<String> CODES =
      Set.of(
          "HMARKT",
          "HOPERAT",
          "CAREMGT",
          "DONAT",
          "FRAUD",
          "GOV",
          "HACCRED",
          "HCOMPL",
          "HDECD",
          "HDIRECT",
          "HDM",
          "HLEGAL",
          "HOUTCOMS",
          "HPRGRP",
          "HQUALIMP",
          "HSYSADMIN",
          "LABELING",
          "METAMGT",
          "MEMADMIN",
          "MILCDM",
          "PATADMIN",
          "PATSFTY",
          "PERFMSR",
          "RECORDMGT",
          "SYSDEV",
          "HTEST",
          "TRAIN",
          "HPAYMT",
          "CLMATTCH",
          "COVAUTH",
          "COVERAGE",
          "ELIGDTRM",
          "ELIGVER",
          "ENROLLM",
          "MILDCRG",
          "REMITADV",
          "HRESCH",
          "BIORCH",
          "CLINTRCH",
          "CLINTRCHNPC",
          "CLINTRCHPC",
          "PRECLINTRCH",
          "DSRCH",
          "POARCH",
          "TRANSRCH",
          "PATRQT",
          "FAMRQT",
          "PWATRNY",
          "SUPNWK",
          "PUBHLTH",
          "DISASTER",
          "THREAT",
          "TREAT",
          "CLINTRL",
          "COC",
          "ETREAT",
          "BTG",
          "ERTREAT",
          "POPHLTH");

  private PurposeOfUseCodes() {}

  static boolean isKnown(String code) {
    return CODES.contains(code);
  }
}
