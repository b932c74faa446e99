package dev.hipaagrpc.tls;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.internal.PeriodicReload;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.Certificate;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The certificate authorities a peer's chain must lead to, plus optional certificate revocation
 * lists (CRLs).
 *
 * <p>Loaded from a PEM trust bundle (one or more CA certificates) and optional PEM CRL files, from
 * the trusted-certificate entries of a {@link KeyStore}, or from objects. Every load is validated:
 * at least one CA certificate, every CA currently valid with a strong key, and every CRL within its
 * {@code thisUpdate}..{@code nextUpdate} window. When CRLs are present, the credentials builders
 * check every certificate of a peer's chain (leaf and intermediates) against them and refuse a
 * certificate whose revocation status is unknown: supply the CRL of every CA in the chain.
 *
 * <p>File-backed material reloads like {@link IdentityMaterial}: {@link #reloadEvery} on your
 * executor, or {@link #reload()}; invalid replacements are refused, logged and reported, and the
 * current material kept. New handshakes use the new material (client-authenticated server sessions
 * are never resumed, so no connection skips it); established connections are re-checked on their
 * next call by {@link TransportGuardServerInterceptor}.
 *
 * <p>Thread-safe.
 */
public final class TrustMaterial {

  /** One validated set of anchors and CRLs. */
  record Snapshot(long generation, List<X509Certificate> anchors, List<X509CRL> crls) {}

  private final @Nullable Path bundleFile;
  private final List<Path> crlFiles;
  private final Clock clock;
  private final Reloader reloader = new Reloader();
  private volatile Snapshot current;
  private byte @Nullable [] loadedDigest;
  private byte @Nullable [] refusedDigest;
  // The HTTPS client contexts handed out: one per identity, so each registers one change hook.
  private @Nullable SSLContext clientContext;
  private final java.util.IdentityHashMap<IdentityMaterial, SSLContext> clientContexts =
      new java.util.IdentityHashMap<>();

  private TrustMaterial(
      @Nullable Path bundleFile,
      List<Path> crlFiles,
      Clock clock,
      Snapshot initial,
      byte @Nullable [] digest) {
    this.bundleFile = bundleFile;
    this.crlFiles = crlFiles;
    this.clock = clock;
    this.current = initial;
    this.loadedDigest = digest;
  }

  /**
   * Loads CA certificates from a PEM bundle, with no CRLs.
   *
   * @throws IllegalArgumentException if the bundle is invalid (the message names the reason)
   * @throws UncheckedIOException if the file cannot be read
   */
  public static TrustMaterial fromPemFiles(Path trustBundleFile) {
    return fromPemFiles(trustBundleFile, List.of());
  }

  /**
   * Loads CA certificates from a PEM bundle and CRLs from PEM files ({@code X509 CRL} blocks;
   * several per file allowed). The CRL files are reloaded together with the bundle.
   *
   * @throws IllegalArgumentException if the bundle or a CRL is invalid
   * @throws UncheckedIOException if a file cannot be read
   */
  public static TrustMaterial fromPemFiles(Path trustBundleFile, List<Path> crlFiles) {
    return fromPemFiles(trustBundleFile, crlFiles, Clock.systemUTC());
  }

  static TrustMaterial fromPemFiles(Path bundle, List<Path> crlFiles, Clock clock) {
    requireNonNull(bundle, "trustBundleFile");
    List<Path> crls = List.copyOf(requireNonNull(crlFiles, "crlFiles"));
    List<byte[]> contents = readAll(bundle, crls);
    Snapshot s;
    try {
      s = parseAndCheck(contents, 1, clock);
    } catch (MaterialException e) {
      throw new IllegalArgumentException(
          "trust from " + bundle + " refused (" + e.reason() + "): " + e.getMessage());
    }
    return new TrustMaterial(bundle, crls, clock, s, digest(contents));
  }

  /**
   * Uses the trusted-certificate entries of {@code keyStore}. Not reloadable from files.
   *
   * @throws IllegalArgumentException if the store has no trusted certificate or one is invalid
   */
  public static TrustMaterial fromKeyStore(KeyStore keyStore) {
    requireNonNull(keyStore, "keyStore");
    List<X509Certificate> anchors = new ArrayList<>();
    try {
      for (Enumeration<String> e = keyStore.aliases(); e.hasMoreElements(); ) {
        String alias = e.nextElement();
        if (keyStore.isCertificateEntry(alias)) {
          Certificate c = keyStore.getCertificate(alias);
          if (c instanceof X509Certificate x) {
            anchors.add(x);
          }
        }
      }
    } catch (KeyStoreException e) {
      throw new IllegalArgumentException("key store is not loaded", e);
    }
    return of(anchors, List.of());
  }

  /**
   * Uses CA certificates and CRLs held in memory. Not reloadable from files; see {@link #update}.
   *
   * @throws IllegalArgumentException if the material is invalid
   */
  public static TrustMaterial of(List<X509Certificate> trustedCertificates, List<X509CRL> crls) {
    Clock clock = Clock.systemUTC();
    Snapshot s = checked(1, trustedCertificates, crls, clock);
    return new TrustMaterial(null, List.of(), clock, s, null);
  }

  /** Uses CA certificates held in memory, with no CRLs. */
  public static TrustMaterial of(List<X509Certificate> trustedCertificates) {
    return of(trustedCertificates, List.of());
  }

  /** The CA certificates in use now. */
  public List<X509Certificate> trustedCertificates() {
    return current.anchors;
  }

  /** The CRLs in use now (possibly empty). */
  public List<X509CRL> crls() {
    return current.crls;
  }

  /**
   * A TLS context for HTTPS clients of this process, such as the identity provider endpoints the
   * auth module fetches (JWKS, OIDC discovery, token endpoint: pass it to {@code
   * KeySource.RemoteBuilder.sslContext} or {@code ClientCredentialsTokenSource.Builder
   * .sslContext}), that trusts exactly this material: its CAs and CRLs, following every reload and
   * {@link #update} for each new connection, and nothing from the JDK's public CA store. The trust
   * manager refuses a server check made without hostname verification ({@code
   * java.net.http.HttpClient} and {@code HttpsURLConnection} always verify). Protocols are the
   * JDK's client defaults (TLS 1.3 and 1.2 on JDK 17 and newer, whose {@code
   * jdk.tls.disabledAlgorithms} removes older versions). Presents no client certificate; see {@link
   * #clientSslContext(IdentityMaterial)}. Each call returns a new context.
   *
   * @throws IllegalStateException if the JDK has no TLS implementation
   */
  public synchronized SSLContext clientSslContext() {
    SSLContext c = clientContext;
    if (c == null) {
      c = sslContext(null);
      clientContext = c;
    }
    return c;
  }

  /**
   * As {@link #clientSslContext()}, presenting {@code identity} as the client certificate (for
   * mutual-TLS client authentication to a token endpoint, RFC 8705), following its reloads too.
   */
  public synchronized SSLContext clientSslContext(IdentityMaterial identity) {
    return clientContexts.computeIfAbsent(requireNonNull(identity, "identity"), this::sslContext);
  }

  private SSLContext sslContext(@Nullable IdentityMaterial identity) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          identity == null ? null : new KeyManager[] {new DelegatingKeyManager(identity)},
          new TrustManager[] {
            new DelegatingTrustManager(
                this, new DelegatingTrustManager.Revocation(false, false), true, List.of())
          },
          null);
      // A resumed session skips validation: a trust change must reach the next connection.
      onChange(() -> SslContexts.invalidateAll(ctx.getClientSessionContext()));
      if (identity != null) {
        identity.onChange(() -> SslContexts.invalidateAll(ctx.getClientSessionContext()));
      }
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is not available in this JDK", e);
    }
  }

  /** Adds a listener for reloads and refusals. Returns this. */
  public TrustMaterial addListener(RotationListener listener) {
    reloader.addListener(requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Replaces the material with CA certificates and CRLs from memory, after the same validation as
   * at creation.
   *
   * @throws IllegalArgumentException if the new material is invalid; the current one is kept
   */
  public synchronized void update(List<X509Certificate> trustedCertificates, List<X509CRL> crls) {
    current = checked(current.generation + 1, trustedCertificates, crls, clock);
    reloader.changed();
  }

  void onChange(Runnable hook) {
    reloader.onChange(hook);
  }

  /**
   * Re-reads the bundle and CRL files now. Unchanged files are not parsed again.
   *
   * @return {@code true} if new material was installed; {@code false} if unchanged or refused
   *     (logged and reported to listeners)
   * @throws IllegalStateException if this material is not file-backed
   */
  public synchronized boolean reload() {
    Path bundle = bundleFile;
    if (bundle == null) {
      throw new IllegalStateException("trust material is not file-backed");
    }
    List<byte[]> contents;
    try {
      contents = new ArrayList<>();
      contents.add(Files.readAllBytes(bundle));
      for (Path p : crlFiles) {
        contents.add(Files.readAllBytes(p));
      }
    } catch (IOException e) {
      reloader.refused("trust", bundle, new MaterialException("unreadable", "files unreadable"));
      return false;
    }
    byte[] d = digest(contents);
    if (Arrays.equals(d, loadedDigest) || Arrays.equals(d, refusedDigest)) {
      return false;
    }
    Snapshot next;
    try {
      next = parseAndCheck(contents, current.generation + 1, clock);
    } catch (MaterialException e) {
      // A file that is only not yet valid becomes valid by itself: try it again next time, or a
      // few seconds of clock skew at the issuer would block the rotation for good.
      refusedDigest = "not_yet_valid".equals(e.reason()) ? null : d;
      reloader.refused("trust", bundle, e);
      return false;
    }
    loadedDigest = d;
    refusedDigest = null;
    current = next;
    reloader.changed();
    reloader.reloaded("trust", bundle);
    return true;
  }

  /**
   * Calls {@link #reload()} every {@code period} on {@code executor} until the returned handle is
   * closed.
   *
   * @throws IllegalStateException if this material is not file-backed
   * @throws IllegalArgumentException if the period is not positive
   */
  public Closeable reloadEvery(Duration period, ScheduledExecutorService executor) {
    requireNonNull(period, "period");
    requireNonNull(executor, "executor");
    if (bundleFile == null) {
      throw new IllegalStateException("trust material is not file-backed");
    }
    Closeable handle = PeriodicReload.schedule(this::reload, period, executor, "trust material");
    reloader.scheduled(period);
    return handle;
  }

  /** For the posture report: file-backed, the reload period, the last refusal's reason. */
  Reloader reloader() {
    return reloader;
  }

  boolean isFileBacked() {
    return bundleFile != null;
  }

  Snapshot current() {
    return current;
  }

  private static Snapshot checked(
      long generation, List<X509Certificate> anchors, List<X509CRL> crls, Clock clock) {
    List<X509Certificate> a = List.copyOf(requireNonNull(anchors, "trustedCertificates"));
    List<X509CRL> c = List.copyOf(requireNonNull(crls, "crls"));
    try {
      Certs.checkTrust(a, c, clock.instant());
    } catch (MaterialException e) {
      throw new IllegalArgumentException("trust refused (" + e.reason() + "): " + e.getMessage());
    }
    return new Snapshot(generation, a, c);
  }

  private static Snapshot parseAndCheck(List<byte[]> contents, long generation, Clock clock)
      throws MaterialException {
    List<X509Certificate> anchors;
    try {
      anchors = Pem.readCertificates(contents.get(0));
    } catch (IOException e) {
      throw new MaterialException("malformed", "trust bundle: " + e.getMessage());
    }
    List<X509CRL> crls = new ArrayList<>();
    for (int i = 1; i < contents.size(); i++) {
      try {
        crls.addAll(Pem.readCrls(contents.get(i)));
      } catch (IOException e) {
        throw new MaterialException("malformed", "CRL file " + i + ": " + e.getMessage());
      }
    }
    Certs.checkTrust(anchors, crls, clock.instant());
    return new Snapshot(generation, List.copyOf(anchors), List.copyOf(crls));
  }

  private static List<byte[]> readAll(Path bundle, List<Path> crls) {
    List<byte[]> out = new ArrayList<>();
    Path current = bundle;
    try {
      out.add(Files.readAllBytes(bundle));
      for (Path p : crls) {
        current = p;
        out.add(Files.readAllBytes(p));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + current, e);
    }
    return out;
  }

  private static byte[] digest(List<byte[]> contents) {
    byte[] acc = new byte[0];
    for (byte[] c : contents) {
      byte[] h = Certs.sha256(c);
      byte[] next = Arrays.copyOf(acc, acc.length + h.length);
      System.arraycopy(h, 0, next, acc.length, h.length);
      acc = next;
    }
    return Certs.sha256(acc);
  }

  /** Prints the number of CAs and CRLs. */
  @Override
  public String toString() {
    Snapshot s = current;
    return "TrustMaterial{cas=" + s.anchors.size() + ", crls=" + s.crls.size() + "}";
  }
}
