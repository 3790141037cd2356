package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.TimmEvalTransform;
import org.junit.jupiter.api.Test;

/** Names, tags, legacy aliases and pretrained configs as timm 0.9.16 has them (no natives needed). */
class ModelRegistryTest {

    @Test
    void bareArchitectureGetsTimmsDefaultTag() {
        assertEquals("tf_efficientnet_b0.ns_jft_in1k", ModelRegistry.resolve("tf_efficientnet_b0").name());
        assertEquals("tf_efficientnet_b8.ap_in1k", ModelRegistry.resolve("tf_efficientnet_b8").name());
        assertEquals("tf_efficientnet_l2.ns_jft_in1k_475", ModelRegistry.resolve("tf_efficientnet_l2").name());
        assertEquals("efficientnet_b0.ra_in1k", ModelRegistry.resolve("efficientnet_b0").name());
        assertEquals("efficientnet_b7.untrained", ModelRegistry.resolve("efficientnet_b7").name());
        assertEquals(20, ModelRegistry.architectures().size());
        assertEquals(47, ModelRegistry.pretrainedNames().size());
    }

    @Test
    void advPropUsesInceptionStatistics() {
        PretrainedConfig ap = ModelRegistry.config("tf_efficientnet_b0.ap_in1k");
        assertEquals(Normalization.INCEPTION, ap.normalization());
        assertTrue(ap.isInceptionNormalized());
        assertEquals(224, ap.inputSize());
        assertEquals(0.875, ap.cropPct());
        assertEquals(Interpolation.BICUBIC, ap.interpolation());
        assertEquals("timm/tf_efficientnet_b0.ap_in1k", ap.hfHubId());
        assertTrue(ap.url().endsWith("tf_efficientnet_b0_ap-f262efe1.pth"));
        assertEquals(Normalization.IMAGENET, ModelRegistry.config("tf_efficientnet_b0.ns_jft_in1k").normalization());
        for (String name : ModelRegistry.pretrainedNames()) {
            PretrainedConfig c = ModelRegistry.config(name);
            assertEquals(c.tag().startsWith("ap_"), c.isInceptionNormalized(), name);
        }
    }

    @Test
    void legacyAliasesResolve() {
        ModelRegistry.Resolved r = ModelRegistry.resolve("tf_efficientnet_b3_ap");
        assertEquals("tf_efficientnet_b3.ap_in1k", r.name());
        assertEquals("tf_efficientnet_b3_ap", r.deprecatedAlias());
        assertEquals(300, r.config().inputSize());
        assertEquals(0.904, r.config().cropPct());
        assertEquals(Normalization.INCEPTION, r.config().normalization());
        assertEquals("tf_efficientnet_b7.ns_jft_in1k", ModelRegistry.resolve("tf_efficientnet_b7_ns").name());
        PretrainedConfig l2 = ModelRegistry.config("tf_efficientnet_l2_ns_475");
        assertEquals(475, l2.inputSize());
        assertEquals(0.936, l2.cropPct());
        PretrainedConfig l2800 = ModelRegistry.config("TF_EfficientNet_L2_NS");
        assertEquals(800, l2800.inputSize());
        assertEquals(0.96, l2800.cropPct());
        assertEquals("efficientnet_b2.ra_in1k", ModelRegistry.resolve("efficientnet_b2a").name());
        assertNull(ModelRegistry.resolve("tf_efficientnet_b0.ap_in1k").deprecatedAlias());
        assertEquals("tf_efficientnet_b0.ap_in1k", ModelRegistry.resolve("timm/tf_efficientnet_b0.ap_in1k").name());
        assertThrows(IllegalArgumentException.class, () -> ModelRegistry.resolve("tf_efficientnet_b8_ns"));
    }

    @Test
    void configsGiveSpecsAndTransforms() {
        ModelRegistry.Resolved r = ModelRegistry.resolve("tf_efficientnet_b4_ns");
        assertEquals("tf_efficientnet_b4", r.spec().name());
        assertEquals(1000, r.spec().numClasses());
        TimmEvalTransform t = r.config().evalTransform();
        assertEquals(380, t.res());
        assertEquals(0.922, t.cropPct());
        assertEquals(412, t.scaleSize());
        assertEquals(Normalization.IMAGENET, t.normalization());
        assertEquals(472, r.config().evalTransform(472).res());
        PretrainedConfig b1 = ModelRegistry.config("efficientnet_b1");
        assertEquals(224, b1.inputSize());
        assertEquals(256, b1.evalInputSize());
        assertEquals(1.0, b1.cropPct());
        PretrainedConfig in12k = ModelRegistry.config("efficientnet_b5.sw_in12k");
        assertEquals(11821, in12k.numClasses());
        assertEquals(11821, in12k.spec().numClasses());
        PretrainedConfig squash = ModelRegistry.config("efficientnet_b5.sw_in12k_ft_in1k");
        assertEquals("squash", squash.cropMode());
        assertThrows(UnsupportedOperationException.class, squash::evalTransform);
        assertFalse(ModelRegistry.config("efficientnet_l2").hfHub());
    }

    @Test
    void unknownNamesSayWhatExists() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelRegistry.resolve("resnet50"));
        assertTrue(e.getMessage().contains("tf_efficientnet_b0"), e.getMessage());
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> ModelRegistry.resolve("tf_efficientnet_b0.xx_in1k"));
        assertTrue(t.getMessage().contains("ap_in1k"), t.getMessage());
    }
}
