// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ISerialRegistry} from "./ISerialRegistry.sol";

/// @title ILotReader
/// @notice The registry's lot getter, for contracts that need a lot's owner.
interface ILotReader {
    /// @notice Returns lot `lotId` (owner address(0) when unknown).
    function lotState(bytes32 lotId) external view returns (ISerialRegistry.LotView memory);
}
