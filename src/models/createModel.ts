import { DEFAULT_MLP_WIDTHS, type ModelConfig } from '../config/trainConfig.js';
import { createCnn } from './cnn.js';
import { createMlp } from './mlp.js';
import type { Model } from './model.js';
import { createResnet20 } from './resnet20.js';

export function createModel(config: ModelConfig, inputShape: [number, number, number], numClasses: number, seed: number): Model {
  switch (config.name) {
    case 'mlp':
      return createMlp(inputShape, numClasses, config.hiddenWidths ?? DEFAULT_MLP_WIDTHS, seed);
    case 'cnn':
      return createCnn(inputShape, numClasses, seed);
    case 'resnet20':
      return createResnet20(inputShape, numClasses, seed);
    default:
      throw new Error(`unknown model '${String((config as { name: unknown }).name)}'`);
  }
}
