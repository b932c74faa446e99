package dev.hipaagrpc.tls;

import static java.util.Objects.requireNonNull;

import dev.hipaagrpc.core.internal.PeriodicReload;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * A private key and its certificate chain: what a server (or a client) proves its identity with.
 *
 * <p>Loaded from PEM files (PKCS#8 {@code PRIVATE KEY}, encrypted PKCS#8 {@code ENCRYPTED PRIVATE
 * KEY}, PKCS#1 {@code RSA PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}, or a legacy OpenSSL-encrypted
 * key), from a {@link KeyStore}, or from objects. Every load is validated: the chain must be
 * non-empty, ordered leaf first with each certificate issued by the next, every certificate
 * currently valid with an RSA key of at least 2048 bits or an EC key of at least 256 bits, and the
 * private key must match the leaf. A failure at creation throws; a failure on {@link #reload()}
 * keeps the current material, logs the reason (never key bytes) and tells the {@link
 * RotationListener}s.
 *
 * <p>File-backed material rotates without a restart: call {@link #reloadEvery} with your own
 * executor, or {@link #reload()} from your own trigger. Each TLS handshake uses one consistent key
 * and chain; connections already established keep theirs. Replace files atomically (write to a
 * temporary file, then rename); a chain and a key that do not yet match are refused until both are
 * in place.
 *
 * <p>Thread-safe.
 */
public final class IdentityMaterial {

  /** One validated key and chain. */
  static final class Snapshot {
    final long generation;
    private final PrivateKey key;
    private final X509Certificate[] chain;

    Snapshot(long generation, PrivateKey key, X509Certificate[] chain) {
      this.generation = generation;
      this.key = key;
      this.chain = chain;
    }

    PrivateKey key() {
      return key;
    }

    /** A copy of the chain, leaf first. */
    X509Certificate[] chain() {
      return chain.clone();
    }

    X509Certificate leaf() {
      return chain[0];
    }

    String alias() {
      return "hipaagrpc-" + generation;
    }
  }

  private static final int RETAINED = 4;

  private final @Nullable Path chainFile;
  private final @Nullable Path keyFile;
  private final char @Nullable [] password;
  private final Clock clock;
  private final Reloader reloader = new Reloader();
  // Recent snapshots by generation: a handshake that chose an alias just before a swap still
  // gets the key and chain of that alias.
  private final Snapshot[] recent = new Snapshot[RETAINED];
  private volatile Snapshot current;
  private byte @Nullable [] loadedDigest;
  private byte @Nullable [] refusedDigest;

  private IdentityMaterial(
      @Nullable Path chainFile,
      @Nullable Path keyFile,
      char @Nullable [] password,
      Clock clock,
      PrivateKey key,
      List<X509Certificate> chain,
      byte @Nullable [] digest) {
    this.chainFile = chainFile;
    this.keyFile = keyFile;
    this.password = password == null ? null : password.clone();
    this.clock = clock;
    this.current = new Snapshot(1, key, chain.toArray(new X509Certificate[0]));
    this.recent[1 % RETAINED] = current;
    this.loadedDigest = digest;
  }

  /**
   * Loads an unencrypted key and its chain from PEM files.
   *
   * @param certificateChainFile PEM certificates, leaf first, then intermediates (the root may be
   *     omitted)
   * @param privateKeyFile a PEM private key in any supported form
   * @throws IllegalArgumentException if the material is invalid (the message names the reason)
   * @throws UncheckedIOException if a file cannot be read
   */
  public static IdentityMaterial fromPemFiles(Path certificateChainFile, Path privateKeyFile) {
    return fromPemFiles(certificateChainFile, privateKeyFile, null, Clock.systemUTC());
  }

  /**
   * Loads a password-protected key and its chain from PEM files. The password is copied and kept
   * for reloads.
   *
   * @throws IllegalArgumentException if the material is invalid or the password wrong
   * @throws UncheckedIOException if a file cannot be read
   */
  public static IdentityMaterial fromPemFiles(
      Path certificateChainFile, Path privateKeyFile, char[] password) {
    requireNonNull(password, "password");
    return fromPemFiles(certificateChainFile, privateKeyFile, password, Clock.systemUTC());
  }

  static IdentityMaterial fromPemFiles(
      Path chainFile, Path keyFile, char @Nullable [] password, Clock clock) {
    requireNonNull(chainFile, "certificateChainFile");
    requireNonNull(keyFile, "privateKeyFile");
    byte[] chainPem = read(chainFile);
    byte[] keyPem = read(keyFile);
    Loaded loaded;
    try {
      loaded = parseAndCheck(chainPem, keyPem, password, clock);
    } catch (MaterialException e) {
      throw new IllegalArgumentException(
          "identity from " + chainFile + " refused (" + e.reason() + "): " + e.getMessage());
    }
    return new IdentityMaterial(
        chainFile, keyFile, password, clock, loaded.key, loaded.chain, digest(chainPem, keyPem));
  }

  /**
   * Uses the single private key entry of {@code keyStore}. Not reloadable.
   *
   * @throws IllegalArgumentException if the store has no or several key entries, the password is
   *     wrong, or the material is invalid
   */
  public static IdentityMaterial fromKeyStore(KeyStore keyStore, char[] password) {
    requireNonNull(keyStore, "keyStore");
    requireNonNull(password, "password");
    try {
      String alias = null;
      for (Enumeration<String> e = keyStore.aliases(); e.hasMoreElements(); ) {
        String a = e.nextElement();
        if (keyStore.isKeyEntry(a)) {
          if (alias != null) {
            throw new IllegalArgumentException("key store holds more than one key entry");
          }
          alias = a;
        }
      }
      if (alias == null) {
        throw new IllegalArgumentException("key store holds no key entry");
      }
      Key key = keyStore.getKey(alias, password);
      Certificate[] chain = keyStore.getCertificateChain(alias);
      if (!(key instanceof PrivateKey privateKey) || chain == null) {
        throw new IllegalArgumentException("key store entry is not a private key with a chain");
      }
      List<X509Certificate> certs = new ArrayList<>();
      for (Certificate c : chain) {
        if (!(c instanceof X509Certificate x)) {
          throw new IllegalArgumentException("key store chain holds a non-X.509 certificate");
        }
        certs.add(x);
      }
      return of(privateKey, certs);
    } catch (GeneralSecurityException e) {
      // UnrecoverableKeyException and friends: the message may hint at the password; say less.
      throw new IllegalArgumentException("key store entry cannot be read (wrong password?)");
    }
  }

  /**
   * Uses a key and chain held in memory. Not reloadable from files; see {@link #update}.
   *
   * @throws IllegalArgumentException if the material is invalid
   */
  public static IdentityMaterial of(PrivateKey privateKey, List<X509Certificate> certificateChain) {
    requireNonNull(privateKey, "privateKey");
    List<X509Certificate> chain = List.copyOf(requireNonNull(certificateChain, "certificateChain"));
    Clock clock = Clock.systemUTC();
    try {
      Certs.checkIdentity(privateKey, chain, clock.instant());
    } catch (MaterialException e) {
      throw new IllegalArgumentException(
          "identity refused (" + e.reason() + "): " + e.getMessage());
    }
    return new IdentityMaterial(null, null, null, clock, privateKey, chain, null);
  }

  /** The certificate chain in use now, leaf first. */
  public List<X509Certificate> certificateChain() {
    return Collections.unmodifiableList(Arrays.asList(current.chain()));
  }

  /** Adds a listener for reloads and refusals. Returns this. */
  public IdentityMaterial addListener(RotationListener listener) {
    reloader.addListener(requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Replaces the material with a key and chain from memory, after the same validation as at
   * creation.
   *
   * @throws IllegalArgumentException if the new material is invalid; the current one is kept
   */
  public void update(PrivateKey privateKey, List<X509Certificate> certificateChain) {
    requireNonNull(privateKey, "privateKey");
    List<X509Certificate> chain = List.copyOf(requireNonNull(certificateChain, "certificateChain"));
    try {
      Certs.checkIdentity(privateKey, chain, clock.instant());
    } catch (MaterialException e) {
      throw new IllegalArgumentException(
          "identity refused (" + e.reason() + "): " + e.getMessage());
    }
    install(privateKey, chain);
  }

  /**
   * Re-reads the files now. Unchanged files are not parsed again.
   *
   * @return {@code true} if new material was installed; {@code false} if the files were unchanged
   *     or the new content was refused (logged and reported to listeners)
   * @throws IllegalStateException if this material is not file-backed
   */
  public synchronized boolean reload() {
    Path chainPath = chainFile;
    Path keyPath = keyFile;
    if (chainPath == null || keyPath == null) {
      throw new IllegalStateException("identity material is not file-backed");
    }
    byte[] chainPem;
    byte[] keyPem;
    try {
      chainPem = Files.readAllBytes(chainPath);
      keyPem = Files.readAllBytes(keyPath);
    } catch (IOException e) {
      reloader.refused(
          "identity", chainPath, new MaterialException("unreadable", "files cannot be read"));
      return false;
    }
    byte[] d = digest(chainPem, keyPem);
    if (Arrays.equals(d, loadedDigest) || Arrays.equals(d, refusedDigest)) {
      return false;
    }
    Loaded loaded;
    try {
      loaded = parseAndCheck(chainPem, keyPem, password, clock);
    } catch (MaterialException e) {
      // A file that is only not yet valid becomes valid by itself: try it again next time, or a
      // few seconds of clock skew at the issuer would block the rotation for good.
      refusedDigest = "not_yet_valid".equals(e.reason()) ? null : d;
      reloader.refused("identity", chainPath, e);
      return false;
    }
    loadedDigest = d;
    refusedDigest = null;
    install(loaded.key, loaded.chain);
    reloader.reloaded("identity", chainPath);
    return true;
  }

  /**
   * Calls {@link #reload()} every {@code period} on {@code executor} until the returned handle is
   * closed. The executor is yours: this class never creates threads.
   *
   * @throws IllegalStateException if this material is not file-backed
   * @throws IllegalArgumentException if the period is not positive
   */
  public Closeable reloadEvery(Duration period, ScheduledExecutorService executor) {
    requireNonNull(period, "period");
    requireNonNull(executor, "executor");
    if (chainFile == null) {
      throw new IllegalStateException("identity material is not file-backed");
    }
    Closeable handle = PeriodicReload.schedule(this::reload, period, executor, "identity material");
    reloader.scheduled(period);
    return handle;
  }

  /** For the posture report: file-backed, the reload period, the last refusal's reason. */
  Reloader reloader() {
    return reloader;
  }

  boolean isFileBacked() {
    return chainFile != null;
  }

  Snapshot current() {
    return current;
  }

  @Nullable Snapshot byAlias(String alias) {
    if (!alias.startsWith("hipaagrpc-")) {
      return null;
    }
    long generation;
    try {
      generation = Long.parseLong(alias.substring("hipaagrpc-".length()));
    } catch (NumberFormatException e) {
      return null;
    }
    synchronized (recent) {
      Snapshot s = recent[(int) (generation % RETAINED)];
      return s != null && s.generation == generation ? s : null;
    }
  }

  private void install(PrivateKey key, List<X509Certificate> chain) {
    synchronized (recent) {
      Snapshot next =
          new Snapshot(current.generation + 1, key, chain.toArray(new X509Certificate[0]));
      recent[(int) (next.generation % RETAINED)] = next;
      current = next;
    }
    reloader.changed();
  }

  void onChange(Runnable hook) {
    reloader.onChange(hook);
  }

  private record Loaded(PrivateKey key, List<X509Certificate> chain) {}

  private static Loaded parseAndCheck(
      byte[] chainPem, byte[] keyPem, char @Nullable [] password, Clock clock)
      throws MaterialException {
    List<X509Certificate> chain;
    PrivateKey key;
    try {
      chain = Pem.readCertificates(chainPem);
    } catch (IOException e) {
      throw new MaterialException("malformed", "certificate chain: " + e.getMessage());
    }
    try {
      key = Pem.readPrivateKey(keyPem, password);
    } catch (IOException e) {
      throw new MaterialException("malformed", "private key: " + e.getMessage());
    }
    Certs.checkIdentity(key, chain, clock.instant());
    return new Loaded(key, chain);
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static byte[] digest(byte[] a, byte[] b) {
    byte[] ha = Certs.sha256(a);
    byte[] hb = Certs.sha256(b);
    byte[] both = Arrays.copyOf(ha, ha.length + hb.length);
    System.arraycopy(hb, 0, both, ha.length, hb.length);
    return Certs.sha256(both);
  }

  /** Prints the leaf's thumbprint only. */
  @Override
  public String toString() {
    return "IdentityMaterial{" + Certs.sha256Prefix(current.leaf()) + "}";
  }
}
