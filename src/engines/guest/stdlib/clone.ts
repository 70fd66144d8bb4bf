/** structuredClone: core-js's implementation (the HTML structured clone algorithm, without transfer of host objects). */
import structuredCloneImpl from 'core-js-pure/stable/structured-clone.js';

export const structuredClone = structuredCloneImpl;
