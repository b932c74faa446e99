package dev.hipaagrpc.core;

/**
 * The standards and implementation specifications of the HIPAA Security Rule's technical safeguards
 * (45 CFR 164.312), plus the Privacy Rule's minimum necessary standard that masking enforces, as
 * named on the site's mapping page. A {@link PostureItem} names the one it evidences.
 *
 * <p>Immutable and thread-safe.
 */
public enum Safeguard {
  /** 164.312(a)(1) Access control. */
  ACCESS_CONTROL("164.312(a)(1)", "Access control"),
  /** 164.312(a)(2)(i) Unique user identification. */
  UNIQUE_USER_IDENTIFICATION("164.312(a)(2)(i)", "Unique user identification"),
  /** 164.312(a)(2)(ii) Emergency access procedure. */
  EMERGENCY_ACCESS("164.312(a)(2)(ii)", "Emergency access procedure"),
  /** 164.312(a)(2)(iii) Automatic logoff. */
  AUTOMATIC_LOGOFF("164.312(a)(2)(iii)", "Automatic logoff"),
  /** 164.312(a)(2)(iv) Encryption and decryption. */
  ENCRYPTION_AND_DECRYPTION("164.312(a)(2)(iv)", "Encryption and decryption"),
  /** 164.312(b) Audit controls. */
  AUDIT_CONTROLS("164.312(b)", "Audit controls"),
  /** 164.312(c)(1) Integrity. */
  INTEGRITY("164.312(c)(1)", "Integrity"),
  /** 164.312(c)(2) Mechanism to authenticate electronic protected health information. */
  AUTHENTICATE_EPHI("164.312(c)(2)", "Mechanism to authenticate ePHI"),
  /** 164.312(d) Person or entity authentication. */
  PERSON_OR_ENTITY_AUTHENTICATION("164.312(d)", "Person or entity authentication"),
  /** 164.312(e)(1) Transmission security. */
  TRANSMISSION_SECURITY("164.312(e)(1)", "Transmission security"),
  /** 164.312(e)(2)(i) Integrity controls (in transmission). */
  TRANSMISSION_INTEGRITY("164.312(e)(2)(i)", "Integrity controls"),
  /** 164.312(e)(2)(ii) Encryption (in transmission). */
  TRANSMISSION_ENCRYPTION("164.312(e)(2)(ii)", "Encryption"),
  /** 164.502(b) Minimum necessary (Privacy Rule, enforced technically by masking). */
  MINIMUM_NECESSARY("164.502(b)", "Minimum necessary");

  private final String citation;
  private final String title;

  Safeguard(String citation, String title) {
    this.citation = citation;
    this.title = title;
  }

  /** The citation, e.g. {@code 164.312(e)(1)}. */
  public String citation() {
    return citation;
  }

  /** The standard's name, e.g. {@code Transmission security}. */
  public String title() {
    return title;
  }
}
