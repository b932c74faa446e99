package dev.hipaagrpc.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 6962 hashing and proofs against the published test vectors, and the tiled tree. */
class MerkleTest {

  // The leaves of the RFC 6962 / Certificate Transparency reference test corpus.
  private static final String[] LEAVES = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"
  };
  private static final String[] ROOTS = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
  };

  @TempDir Path dir;

  private static List<byte[]> leafHashes(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] d = Crypto.HEX.parseHex(LEAVES[i]);
      out.add(Merkle.leafHash(d, 0, d.length));
    }
    return out;
  }

  private static String hex(byte[] b) {
    return Crypto.HEX.formatHex(b);
  }

  private static List<String> hex(List<byte[]> l) {
    return l.stream().map(MerkleTest::hex).toList();
  }

  private static Merkle.Hashes over(List<byte[]> leaves) {
    return (from, to) -> Merkle.mth(leaves, (int) from, (int) to);
  }

  @Test
  void mth_rfc6962Corpus_publishedRootsAtEverySize() throws Exception {
    List<byte[]> all = leafHashes(8);
    for (int n = 0; n <= 8; n++) {
      assertThat(hex(Merkle.mth(all, 0, n))).as("size %d", n).isEqualTo(ROOTS[n]);
      MerkleTree t = new MerkleTree(null, false);
      for (int i = 0; i < n; i++) {
        t.add(all.get(i), 0, 1);
      }
      assertThat(hex(t.root())).as("incremental, size %d", n).isEqualTo(ROOTS[n]);
    }
  }

  @Test
  void inclusionProof_rfc6962Corpus_publishedPathAndEveryLeafVerifies() {
    List<byte[]> all = leafHashes(8);
    assertThat(hex(Merkle.inclusionProof(0, 7, over(all.subList(0, 7)))))
        .containsExactly(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e");
    for (int n = 1; n <= 8; n++) {
      byte[] root = Crypto.HEX.parseHex(ROOTS[n]);
      for (int m = 0; m < n; m++) {
        List<byte[]> proof = Merkle.inclusionProof(m, n, over(all));
        assertThat(Merkle.verifyInclusion(m, n, all.get(m), proof, root)).isTrue();
        assertThat(Merkle.verifyInclusion(m, n, all.get((m + 1) % 8), proof, root))
            .as("another leaf")
            .isFalse();
        if (n > 1) {
          assertThat(Merkle.verifyInclusion((m + 1) % n, n, all.get(m), proof, root))
              .as("another index")
              .isEqualTo(m == (m + 1) % n);
        }
      }
    }
  }

  @Test
  void consistencyProof_rfc6962Corpus_publishedProofsAndEveryPairVerifies() {
    List<byte[]> all = leafHashes(8);
    assertThat(hex(Merkle.consistencyProof(1, 8, over(all))))
        .containsExactly(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
    assertThat(hex(Merkle.consistencyProof(6, 8, over(all))))
        .containsExactly(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
    assertThat(hex(Merkle.consistencyProof(2, 5, over(all))))
        .containsExactly(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
    for (int m = 1; m <= 8; m++) {
      for (int n = m; n <= 8; n++) {
        byte[] r1 = Crypto.HEX.parseHex(ROOTS[m]);
        byte[] r2 = Crypto.HEX.parseHex(ROOTS[n]);
        List<byte[]> proof = Merkle.consistencyProof(m, n, over(all));
        assertThat(Merkle.verifyConsistency(m, n, r1, r2, proof)).as("%d -> %d", m, n).isTrue();
        if (m < n) {
          byte[] other = Crypto.HEX.parseHex(ROOTS[m - 1]);
          assertThat(Merkle.verifyConsistency(m, n, other, r2, proof))
              .as("a different old root")
              .isFalse();
        }
      }
    }
  }

  @Test
  void tilePath_tlogTilesEncoding() {
    Tiles t = new Tiles(dir);
    assertThat(dir.relativize(t.path(0, 1234067, 256)).toString())
        .isEqualTo("tile/0/x001/x234/067");
    assertThat(dir.relativize(t.path(2, 5, 17)).toString()).isEqualTo("tile/2/005.p/17");
  }

  @Test
  void tiledTree_manyLeaves_rootMatchesAndRestoresFromTilesAtAnySize() throws Exception {
    Random rnd = new Random(17);
    List<byte[]> leaves = new ArrayList<>();
    MerkleTree t = new MerkleTree(new Tiles(dir), true);
    int[] checkpoints = {1, 255, 256, 257, 600, 65_536 + 300};
    int done = 0;
    for (int size : checkpoints) {
      for (; done < size; done++) {
        byte[] d = new byte[20];
        rnd.nextBytes(d);
        byte[] h = Merkle.leafHash(d, 0, d.length);
        leaves.add(h);
        t.add(h, 0, 1);
      }
      byte[] root = t.root();
      t.writePartials();
      assertThat(hex(root)).as("size %d", size).isEqualTo(hex(Merkle.mth(leaves, 0, size)));
      MerkleTree restored = new MerkleTree(new Tiles(dir), false);
      assertThat(restored.restore(size)).isTrue();
      assertThat(hex(restored.root())).isEqualTo(hex(root));
    }
    byte[] tile0 = Files.readAllBytes(new Tiles(dir).path(0, 0, 256));
    for (int i = 0; i < 256; i++) {
      assertThat(hex(Merkle.hashAt(tile0, i * 32))).isEqualTo(hex(leaves.get(i)));
    }
    byte[] level1 = new Tiles(dir).read(1, 0, 1);
    assertThat(level1).isNotNull();
    assertThat(hex(level1)).isEqualTo(hex(Merkle.mth(leaves, 0, 256)));
    // A full tile's partial tiles stay until the checkpoint after the one that wrote it, then are
    // deleted; every checkpointed size still restores.
    assertThat(new Tiles(dir).path(0, 0, 255).getParent()).doesNotExist();
    assertThat(new Tiles(dir).path(1, 0, 1)).exists(); // level-1 tile 0 filled at the last one
    t.writePartials();
    assertThat(new Tiles(dir).path(1, 0, 1).getParent()).doesNotExist();
    assertThat(new Tiles(dir).path(0, 257, 44)).exists(); // the tree's open edge keeps its own
    for (int size : checkpoints) {
      MerkleTree restored = new MerkleTree(new Tiles(dir), false);
      assertThat(restored.restore(size)).as("size %d", size).isTrue();
      assertThat(hex(restored.root())).isEqualTo(hex(Merkle.mth(leaves, 0, size)));
    }
    assertThat(new MerkleTree(new Tiles(dir), false).restore(70_000_000))
        .as("never written")
        .isFalse();
  }
}
