package org.fixres4j.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What {@link Torch} does about libtorch's huge-page allocations, and how it reports the allocator. */
class AllocatorSettingsTest {
    @Test
    void hugePagesAreOffUnlessAskedForAndTheProbeSeesIt() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "needs /proc/self/smaps");
        Assumptions.assumeTrue(System.getenv(Torch.THP_ENV) == null && System.getProperty(Torch.THP_PROPERTY) == null,
                "the environment decides here");
        Torch.ensureLoaded();
        assertFalse(org.bytedeco.pytorch.global.torch.has_env(Torch.THP_ENV), "loading libtorch set " + Torch.THP_ENV);
        // the probe reads the hg flag of a 4 MB tensor's mapping: present, and not advised
        assertEquals(Boolean.FALSE, Torch.hugePageAllocations());
        assertTrue(Torch.hugePageReport().startsWith("off (" + Torch.THP_ENV + " unset; kernel THP: "),
                Torch.hugePageReport());
        assertTrue(Torch.hugePagePolicy().startsWith("off ("), Torch.hugePagePolicy());
    }

    @Test
    void theMallocReportFollowsTheEnvironment() {
        String preloaded = Torch.preloadedMalloc();
        if (preloaded != null) { // LD_PRELOAD: the report names it (the launcher's jemalloc)
            assertTrue(Torch.mallocReport().startsWith(preloaded + " (LD_PRELOAD"), Torch.mallocReport());
            return;
        }
        String tunables = System.getenv("GLIBC_TUNABLES");
        String legacy = System.getenv("MALLOC_MMAP_MAX_");
        boolean keeps = (tunables != null && tunables.contains("glibc.malloc.mmap_max=0"))
                || "0".equals(legacy == null ? null : legacy.strip());
        assertEquals(keeps, Torch.mallocReport().startsWith("keeps freed memory"), Torch.mallocReport());
    }

    @Test
    void theKernelModeIsOneOfThree() {
        String mode = Torch.transparentHugePages();
        assertTrue(mode == null || mode.equals("always") || mode.equals("madvise") || mode.equals("never"), mode);
    }
}
