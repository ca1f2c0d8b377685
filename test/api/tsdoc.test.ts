import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Every symbol the library's entry points export (and every public member of an exported class or
// interface) carries a TSDoc comment: editors show it on hover, and it is the API reference.
const LIBRARY_SOURCES = fileURLToPath(new URL('../../packages/hearsay/src/', import.meta.url));
const ENTRY_POINTS = {
  hearsay: 'index.ts',
  'hearsay/core': 'core/index.ts',
  'hearsay/wire': 'wire/index.ts',
  'hearsay/serf': 'serf/index.ts',
  'hearsay/sim': 'sim/index.ts',
} as const;
type EntryPoint = keyof typeof ENTRY_POINTS;

const program = ts.createProgram(
  Object.values(ENTRY_POINTS).map((file) => LIBRARY_SOURCES + file),
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  },
);
const checker = program.getTypeChecker();

function hasDoc(symbol: ts.Symbol): boolean {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== '';
}

/** Declared in the library's own sources, not inherited from a lib.d.ts or a dependency's type. */
function isOwn(symbol: ts.Symbol): boolean {
  const declarations = symbol.getDeclarations() ?? [];
  return declarations.length > 0 && declarations.every((d) => d.getSourceFile().fileName.startsWith(LIBRARY_SOURCES));
}

/** Public and new: an `override` (an Error's `name`) means what the member it overrides means. */
function isPublicAndNew(member: ts.Symbol): boolean {
  return (member.getDeclarations() ?? []).every((d) => {
    if (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected | ts.ModifierFlags.Override)) return false;
    const name = ts.getNameOfDeclaration(d);
    return !(name && ts.isPrivateIdentifier(name));
  });
}

/** The public members of an exported class (instance and static) or interface, named for a report. */
function publicMembers(symbol: ts.Symbol): Array<[string, ts.Symbol]> {
  const members: Array<[string, ts.Symbol]> = [];
  if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
    for (const m of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) members.push([`${symbol.name}.${m.name}`, m]);
  }
  if (symbol.flags & ts.SymbolFlags.Class) {
    for (const m of checker.getPropertiesOfType(checker.getTypeOfSymbol(symbol))) {
      if (m.name !== 'prototype') members.push([`${symbol.name}.${m.name} (static)`, m]);
    }
  }
  return members.filter(([, m]) => isOwn(m) && isPublicAndNew(m));
}

/** Every exported name of an entry point, with aliases (`export { a as b }`, `export *`) followed to the declaration. */
function exportsOf(entry: EntryPoint): Array<[string, ts.Symbol]> {
  const source = program.getSourceFile(LIBRARY_SOURCES + ENTRY_POINTS[entry]);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${entry}: ${ENTRY_POINTS[entry]} did not load as a module`);
  return checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s]);
}

function undocumented(entry: EntryPoint): string[] {
  const missing: string[] = [];
  for (const [name, symbol] of exportsOf(entry)) {
    if (!hasDoc(symbol)) missing.push(name);
    for (const [memberName, member] of publicMembers(symbol)) if (!hasDoc(member)) missing.push(memberName);
  }
  return missing;
}

describe('TSDoc on the public API', () => {
  it('sees the exports through re-exports, members included; the main entry holds no internals', () => {
    const names = (entry: EntryPoint) => exportsOf(entry).map(([name]) => name);
    expect(names('hearsay')).toEqual(expect.arrayContaining(['createNode', 'HearsayNode', 'OptionError', 'WireError', 'QueryError']));
    expect(names('hearsay')).not.toEqual(expect.arrayContaining(['MemberNode']));
    expect(names('hearsay')).not.toContain('simulate');
    expect(names('hearsay')).not.toContain('minSuspicionTimeout');
    expect(names('hearsay/wire')).toEqual(expect.arrayContaining(['encodeMessage', 'Keyring', 'StreamDecoder']));
    expect(names('hearsay/serf')).toEqual(expect.arrayContaining(['SerfMember', 'SerfLayer', 'CoordinateClient']));
    const keyring = exportsOf('hearsay/wire').find(([name]) => name === 'Keyring')![1];
    expect(publicMembers(keyring).map(([name]) => name)).toEqual(expect.arrayContaining(['Keyring.addKey', 'Keyring.useKey']));
  });

  it.each(Object.keys(ENTRY_POINTS) as EntryPoint[])('every export of %s and its public members are documented', (entry) => {
    expect(undocumented(entry)).toEqual([]);
  });
});
