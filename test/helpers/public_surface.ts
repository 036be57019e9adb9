import ts from 'typescript'
import { dirname, relative } from 'node:path'

export interface SurfaceReport {
  /** `Name (file) ← where it is used`, for every named type of ours a public signature uses but the index does not export. */
  unexported: string[]
  /** Errors in the emitted declarations themselves (e.g. a stripped @internal member a public type still needs). */
  diagnostics: string[]
}

/**
 * Walks the public declarations users get (the built index.d.ts and everything its exports'
 * signatures name) with the TypeScript checker. A type of ours that appears in a public
 * signature must be importable by name, or users cannot annotate a variable holding it.
 */
export function inspectPublicSurface (indexDts: string): SurfaceReport {
  const program = ts.createProgram([indexDts], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  })
  const checker = program.getTypeChecker()
  const ownDir = dirname(indexDts)
  const isOwn = (file: string): boolean => !relative(ownDir, file).startsWith('..')
  // Only our own declarations: checking all of @types/node would take most of the time.
  const diagnostics = program.getSourceFiles().filter((f) => isOwn(f.fileName))
    .flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)])
    .map((d) => `${d.file === undefined ? '' : relative(ownDir, d.file.fileName) + ': '}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)

  const index = program.getSourceFile(indexDts)
  if (index === undefined) throw new Error(`${indexDts} not found`)
  const moduleSymbol = checker.getSymbolAtLocation(index)
  if (moduleSymbol === undefined) throw new Error(`${indexDts} is not a module`)
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(s) : s
  const exported = new Set(checker.getExportsOfModule(moduleSymbol).map(resolve))

  const unexported = new Set<string>()
  const seen = new Set<ts.Symbol>()
  const queue: Array<{ symbol: ts.Symbol, via: string }> = [...exported].map((symbol) => ({ symbol, via: symbol.name }))

  const note = (symbol: ts.Symbol | undefined, via: string): void => {
    if (symbol === undefined) return
    const target = resolve(symbol)
    if ((target.flags & ts.SymbolFlags.TypeParameter) !== 0) return
    const decl = target.declarations?.[0]
    if (decl === undefined || !isOwn(decl.getSourceFile().fileName)) return
    if (!exported.has(target)) unexported.add(`${target.name} (${relative(ownDir, decl.getSourceFile().fileName)}) ← ${via}`)
    queue.push({ symbol: target, via: `${via} → ${target.name}` })
  }

  const visit = (node: ts.Node, via: string): void => {
    // Private and protected members are not part of what users can reach.
    if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) return
    if (ts.isPrivateIdentifier((node as ts.NamedDeclaration).name ?? node)) return
    const member = ts.isClassElement(node) || ts.isTypeElement(node) ? `${via}.${(node.name as ts.Identifier | undefined)?.text ?? '?'}` : via
    if (ts.isTypeReferenceNode(node)) note(checker.getSymbolAtLocation(node.typeName), member)
    else if (ts.isExpressionWithTypeArguments(node)) note(checker.getSymbolAtLocation(node.expression), member)
    // `typeof SPAN_KINDS[number]`: the value only has to be declared, users name the alias.
    else if (ts.isTypeQueryNode(node)) return
    else if (ts.isImportTypeNode(node)) {
      const t = checker.getTypeFromTypeNode(node)
      note(t.aliasSymbol ?? t.getSymbol(), member)
    } else if (ts.isVariableDeclaration(node) && node.type === undefined) {
      note(checker.getTypeAtLocation(node).getSymbol(), member)
    }
    ts.forEachChild(node, (child) => visit(child, member))
  }

  while (queue.length > 0) {
    const { symbol, via } = queue.shift() as { symbol: ts.Symbol, via: string }
    if (seen.has(symbol)) continue
    seen.add(symbol)
    for (const decl of symbol.declarations ?? []) {
      if (!isOwn(decl.getSourceFile().fileName)) continue
      // A variable's declaration is the whole statement: `export declare const tracer: GlobalTracer`.
      visit(decl, via)
    }
  }
  return { unexported: [...unexported].sort(), diagnostics }
}
