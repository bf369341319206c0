// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IExceptionRegistry
/// @notice Exceptions between two trading partners (data and product that do not match at
/// receiving, damaged packaging, ...), from opening to resolution: who raised one against
/// whom, of what kind, about which items (the hash of their id list) with what evidence (the
/// hash of the opener's documents), and when it was opened, answered and resolved. The answer's
/// and the resolution's evidence hashes are in their events.
interface IExceptionRegistry {
    /// @notice HDA's five exception categories, and aggregation errors (a case or pallet whose
    /// contents differ from the data: a data issue in HDA's terms) recorded on their own.
    enum ExceptionKind {
        NONE,
        DATA_ISSUE,
        PRODUCT_WITHOUT_DATA,
        DATA_WITHOUT_PRODUCT,
        PACKAGING_LABELLING,
        UNAVAILABLE_FOR_DISTRIBUTION,
        AGGREGATION_ERROR
    }

    enum ExceptionStatus {
        NONE,
        OPEN,
        ANSWERED,
        RESOLVED
    }

    /// @notice Who resolved an exception: its opener (accepting the answer, or withdrawing it
    /// before one), a regulator, or the council (closing it).
    enum Resolver {
        NONE,
        OPENER,
        REGULATOR,
        COUNCIL
    }

    /// @notice An exception's state, packed in one slot (240 bits), and its two hashes;
    /// `closeRequestedBy` is the member index of the regulator whose closure waits for a
    /// second regulator (0: none).
    struct Record {
        uint32 opener;
        uint32 counterparty;
        ExceptionKind kind;
        ExceptionStatus status;
        Resolver resolvedBy;
        uint40 openedAt;
        uint40 answeredAt;
        uint40 resolvedAt;
        uint32 closeRequestedBy;
        bytes32 itemsHash;
        bytes32 evidenceHash;
    }

    /// @notice An exception as {exceptionRecord} returns it, members by their current account.
    struct ExceptionView {
        address opener;
        address counterparty;
        ExceptionKind kind;
        ExceptionStatus status;
        Resolver resolvedBy;
        uint40 openedAt;
        uint40 answeredAt;
        uint40 resolvedAt;
        bytes32 itemsHash;
        bytes32 evidenceHash;
    }

    event ExceptionOpened(
        uint256 indexed id,
        address indexed opener,
        address indexed counterparty,
        ExceptionKind kind,
        bytes32 itemsHash,
        bytes32 evidenceHash
    );
    event ExceptionAnswered(uint256 indexed id, address indexed by, bytes32 evidenceHash);
    /// @notice A regulator asked to close exception `id`: a second regulator's resolution closes it.
    event ExceptionClosureRequested(uint256 indexed id, address indexed by, bytes32 evidenceHash);
    event ExceptionResolved(uint256 indexed id, address indexed by, Resolver resolvedBy, bytes32 evidenceHash);

    error ExceptionRegistryInvalidKind(uint8 kind);
    error ExceptionRegistryNoItems();
    error ExceptionRegistryInvalidCounterparty(address counterparty);
    error ExceptionRegistryAlreadyOpen(uint256 id);
    error ExceptionRegistryUnknownException(uint256 id);
    error ExceptionRegistryNotCounterparty(uint256 id, address caller);
    error ExceptionRegistryNotOpener(uint256 id, address caller);
    error ExceptionRegistryNotOpen(uint256 id, ExceptionStatus status);
    error ExceptionRegistryAlreadyResolved(uint256 id);
    error ExceptionRegistryClosureAlreadyRequested(uint256 id, address caller);

    /// @notice Opens an exception of `kind` against trading partner `counterparty` about the
    /// items whose id list hashes to `itemsHash`, with evidence hashing to `evidenceHash`.
    /// @return id The exception's id (1, 2, ...).
    function openException(address counterparty, ExceptionKind kind, bytes32 itemsHash, bytes32 evidenceHash)
        external
        returns (uint256 id);

    /// @notice Answers exception `id` as its counterparty, with evidence hashing to `evidenceHash`.
    function answerException(uint256 id, bytes32 evidenceHash) external;

    /// @notice Resolves exception `id`: its opener or the council at once; a regulator asks for
    /// its closure, and a second regulator's call closes it.
    function resolveException(uint256 id, bytes32 evidenceHash) external;

    /// @notice Returns exception `id` (status NONE when unknown).
    function exceptionRecord(uint256 id) external view returns (ExceptionView memory);

    /// @notice Returns how many exceptions were opened (the newest id).
    function exceptionCount() external view returns (uint256);
}
