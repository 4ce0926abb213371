#!/usr/bin/env node
// Compiles the registry with solc-js (npm `solc`, bundled soljson: no download,
// works offline) and writes out/AgentCardRegistry.json: ABI, creation and
// runtime bytecode, and the compiler settings. The Rust crate
// `sage-registry-eth` embeds that file, so it is committed.
//
//   node build.js           compile and (re)write the artifact
//   node build.js --check   compile and exit 1 if the committed artifact differs
//
// The output is a pure function of the sources below and SETTINGS: source
// keys are fixed relative paths, and the JSON is written with sorted-by-
// construction keys and a trailing newline.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const ROOT = __dirname;
const SOURCES = ['src/IAgentCardRegistry.sol', 'src/DidSage.sol', 'src/SagePop.sol', 'src/AgentCardRegistry.sol'];
const MAIN = { file: 'src/AgentCardRegistry.sol', contract: 'AgentCardRegistry' };
const ARTIFACT = path.join(ROOT, 'out', 'AgentCardRegistry.json');
const EXPECTED_COMPILER = '0.8.37';

// Cancun: supported by every chain SAGE targets; newer EVM versions add nothing
// this contract uses.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'ipfs' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function compile() {
  const version = solc.version();
  if (!version.startsWith(EXPECTED_COMPILER + '+')) {
    throw new Error(`solc-js ${version} found, ${EXPECTED_COMPILER} expected: run scripts/ensure-chain-tools.sh`);
  }
  const sources = {};
  for (const file of SOURCES) {
    sources[file] = { content: fs.readFileSync(path.join(ROOT, file), 'utf8') };
  }
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors || [];
  for (const d of diagnostics) {
    process.stderr.write(d.formattedMessage || d.message);
  }
  if (diagnostics.some((d) => d.severity === 'error')) {
    throw new Error('compilation failed');
  }
  if (diagnostics.length > 0) {
    throw new Error('compilation produced warnings; the registry must compile cleanly');
  }
  const out = output.contracts[MAIN.file][MAIN.contract];
  const artifact = {
    contractName: MAIN.contract,
    compiler: { name: 'solc-js', version, settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion } },
    sources: SOURCES,
    abi: out.abi,
    bytecode: '0x' + out.evm.bytecode.object,
    deployedBytecode: '0x' + out.evm.deployedBytecode.object,
  };
  return JSON.stringify(artifact, null, 2) + '\n';
}

function main() {
  const check = process.argv.includes('--check');
  const fresh = compile();
  if (check) {
    const committed = fs.existsSync(ARTIFACT) ? fs.readFileSync(ARTIFACT, 'utf8') : '';
    if (committed !== fresh) {
      process.stderr.write(
        `${path.relative(process.cwd(), ARTIFACT)} is stale: it differs from a fresh compile of ${SOURCES.join(', ')}.\n` +
          'Run `node contracts/build.js` and commit the result.\n',
      );
      process.exit(1);
    }
    process.stdout.write(`${path.relative(process.cwd(), ARTIFACT)} matches a fresh solc-js compile\n`);
    return;
  }
  fs.mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  fs.writeFileSync(ARTIFACT, fresh);
  const runtimeBytes = (JSON.parse(fresh).deployedBytecode.length - 2) / 2;
  process.stdout.write(`wrote ${path.relative(process.cwd(), ARTIFACT)} (runtime code ${runtimeBytes} bytes)\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`build.js: ${e.message}\n`);
  process.exit(2);
}
