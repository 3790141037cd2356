package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.io.Json;
import org.junit.jupiter.api.Test;

/** Records of training runs (epoch history, optimizer settings) as Jackson writes them: today's keys and order. */
class RunRecordsJsonTest {
    @Test
    void trainingEpochsWithAndWithoutValidation() {
        Trainer.EpochResult plain = new Trainer.EpochResult(2, 0.5, 100.0, 3.0, 0.01, null);
        assertEquals("{\"epoch\":2,\"loss\":0.5,\"images_per_second\":100.0,\"seconds\":3.0,\"lr\":0.01}",
                Json.write(plain));
        TopKAccuracy val = new TopKAccuracy(2, 1, 2);
        val.add(new float[] {1, 0}, 0);
        val.add(new float[] {1, 0}, 1);
        Map<String, Object> m = Json.parseObject(Json.write(new Trainer.EpochResult(1, 1.0, 2.0, 3.0, 0.1, val)));
        assertEquals(List.of("epoch", "loss", "images_per_second", "seconds", "lr", "val_top1", "val_top5",
                "val_images"), List.copyOf(m.keySet()));
        assertEquals(50.0, m.get("val_top1"));
        assertEquals(100.0, m.get("val_top5"));
        assertEquals(2L, m.get("val_images"));
    }

    @Test
    void fineTuningEpochsReadBackAsStats() {
        Finetuner.EpochResult e = new Finetuner.EpochResult(3, 0.25, 50.0, 2.0, 0.001);
        Map<String, Object> m = Json.parseObject(Json.write(e));
        assertEquals(List.of("epoch", "loss", "images_per_second", "seconds", "lr"), List.copyOf(m.keySet()));
        assertEquals(new EpochLoop.Stats(3, 0.25, 50.0, 2.0, 0.001), EpochLoop.Stats.fromMap(m));
        assertEquals(Json.write(e), Json.write(new EpochLoop.Stats(3, 0.25, 50.0, 2.0, 0.001)));
    }

    @Test
    void optimizerSettingsNameRmspropTermsOnlyForRmsprop() {
        assertEquals("{\"kind\":\"sgd\",\"momentum\":0.9,\"weight_decay\":1.0E-4,\"nesterov\":false}",
                Json.write(TrainOptimizer.Settings.sgd(1e-4)));
        assertEquals("{\"kind\":\"rmsprop\",\"momentum\":0.9,\"weight_decay\":1.0E-5,\"nesterov\":false,"
                + "\"alpha\":0.9,\"eps\":0.001}",
                Json.write(new TrainOptimizer.Settings(TrainOptimizer.Kind.RMSPROP, 0.9, 1e-5, false, 0.9, 1e-3)));
    }
}
